"""The observer app (checklists and reports that survive a bad connection) and the
commission's view of what observers send (station pages, conflicts, critical reports live)."""
