"""Observers on the web: accreditation requests and decisions (Art. 18(3), 20(3)) and the
polling-station table for the commission and CVK."""
