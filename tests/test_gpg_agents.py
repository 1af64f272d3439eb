"""The suite leaves no ``gpg-agent`` running: a test's GnuPG homes in ``tmp_path`` have their
agents stopped at its teardown, and a run whose tests leave one elsewhere fails, naming it (and
stops it)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from tests import gpg_agents

ROOT = Path(__file__).resolve().parents[1]

TESTS = textwrap.dedent('''
    from messaging.pgp import PGP


    def test_home_in_tmp_path(tmp_path):
        PGP(tmp_path / "kept").ensure_archive_key()


    def test_home_elsewhere(tmp_path_factory):
        PGP(tmp_path_factory.mktemp("x") / "leaked").ensure_archive_key()
''')


def test_a_run_that_leaves_an_agent_fails_and_stops_it(tmp_path):
    (tmp_path / "test_homes.py").write_text(TESTS)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTEST", "PORTAL_"))}
    env["PYTHONPATH"] = str(ROOT)
    # A short base: gpg-agent's socket paths must fit in 108 bytes.
    base = Path(tempfile.mkdtemp(prefix="agents-"))
    try:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
             "-p", "no:xdist", "-c", os.devnull, "--rootdir", str(tmp_path),
             "--basetemp", str(base / "t"), "-q", str(tmp_path / "test_homes.py")],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
        left = gpg_agents.running_in(base)
    finally:
        for agent in gpg_agents.running_in(base):
            gpg_agents.stop(agent.home)
        shutil.rmtree(base, ignore_errors=True)
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "2 passed" in output, output
    assert "gpg-agent left running" in output and "leaked" in output, output
    assert "/kept" not in output, output
    assert not left
