"""Initiatives on the web: submitting, deciding, the public page with the live count, online
signing and in-person registration (domain rules in ``referendum_core.initiatives``)."""
