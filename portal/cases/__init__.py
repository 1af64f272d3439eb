"""Web side of case management: case pages, work queues, observer reports, API, dashboard."""
