"""Observation of polling stations: checklists declared as data (``checklists``), the
observers' append-only answers and submissions (``models``), and the services that receive
them, find conflicts between observers and correct an entry by appending (``services``)."""
