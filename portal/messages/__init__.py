"""Secure messaging on the web: threads, live delivery, notifications."""
