"""The counters other areas increment, and multiprocess aggregation across workers."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from portal import metrics


def test_helpers_increment_the_counters():
    accepted = metrics.ballots_accepted._value.get()
    refused = metrics.ballots_refused.labels(reason="proof")._value.get()
    delivered = metrics.messages_delivered.labels(channel="socketio")._value.get()
    sockets = metrics.socket_connections._value.get()
    metrics.ballot_accepted()
    metrics.ballot_refused("proof")
    metrics.message_delivered("socketio")
    metrics.socket_connected()
    metrics.socket_connected()
    metrics.socket_disconnected()
    assert metrics.ballots_accepted._value.get() == accepted + 1
    assert metrics.ballots_refused.labels(reason="proof")._value.get() == refused + 1
    assert metrics.messages_delivered.labels(channel="socketio")._value.get() == delivered + 1
    assert metrics.socket_connections._value.get() == sockets + 1
    metrics.socket_disconnected()
    body, content_type = metrics.exposition(None, "portal")
    assert content_type.startswith("text/plain")
    assert b"portal_ballots_refused_total{reason=\"proof\"}" in body


def test_several_processes_add_up_in_multiprocess_mode(tmp_path):
    """Two 'workers' count into PROMETHEUS_MULTIPROC_DIR; one scrape sees the sum, and a dead
    worker's live gauge stops counting."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    worker = textwrap.dedent("""
        from portal import metrics
        for _ in range(3):
            metrics.ballot_accepted()
        metrics.socket_connected()
        metrics.observe_request("main.index", "GET", 200, 0.02)
        print(__import__("os").getpid())
    """)
    pids = [subprocess.run([sys.executable, "-c", worker], env=env, check=True, timeout=60,
                           capture_output=True, text=True).stdout.strip() for _ in range(2)]
    scrape = textwrap.dedent(f"""
        from portal import metrics
        print(metrics.exposition(None, "portal")[0].decode())
        metrics.mark_process_dead({pids[0]})
        print("---")
        print(metrics.exposition(None, "portal")[0].decode())
    """)
    out = subprocess.run([sys.executable, "-c", scrape], env=env, check=True, timeout=60,
                         capture_output=True, text=True).stdout
    before, after = out.split("---")
    assert "portal_ballots_accepted_total 6.0" in before
    assert "portal_socket_connections 2.0" in before
    assert ('portal_http_requests_total{endpoint="main.index",method="GET",status="200"} 2.0'
            in before)
    assert "portal_socket_connections 1.0" in after
    assert "portal_ballots_accepted_total 6.0" in after  # counters survive their process
