"""Benchmarks of the referendum portal: ``make bench`` runs ``python -m bench``.

Modules:

- ``bench_crypto``, ``bench_register``, ``bench_cases``: the areas' own benchmarks (each also
  a script with its own command line);
- ``cast``: ballots cast over HTTP against two gunicorn portal processes on PostgreSQL;
- ``delivery``: Socket.IO message delivery latency and concurrent connections;
- ``harness``: the machine description, database/Redis discovery and the portal processes
  (the deployment tests' harness in ``tests/deploy/conftest.py``), shared by the two above;
- ``__main__``: runs everything a few times, prints the medians and writes ``results.md``.
"""
