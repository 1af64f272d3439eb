"""Audit log browsing."""
