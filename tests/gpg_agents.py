"""The ``gpg-agent`` daemons the test suite starts, found and stopped.

``gpg`` starts an agent per GnuPG home and the agent detaches from its parent, so neither the
end of a test nor killing a process group stops it. Every process of a run (xdist workers, the
portal processes the deployment tests start, and so the agents they spawn) inherits the run's
mark ``RUN_MARK`` in its environment: that tells this run's agents from anybody else's on a
shared machine.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

RUN_MARK = "REFERENDUM_TEST_RUN"
GPGCONF = "/usr/bin/gpgconf"


@dataclass(frozen=True)
class Agent:
    pid: int
    home: Path


def mark_run() -> str:
    """Give this process (and so everything it starts) a new run mark; return it."""
    os.environ[RUN_MARK] = uuid.uuid4().hex
    return os.environ[RUN_MARK]


def running(mark: str | None = None) -> list[Agent]:
    """The live agents carrying ``mark`` (default: this process's run mark)."""
    mark = mark or os.environ.get(RUN_MARK)
    if not mark:
        return []
    wanted = f"{RUN_MARK}={mark}".encode()
    return [agent for agent, environ in _scan() if wanted in environ]


def running_in(directory: str | os.PathLike[str]) -> list[Agent]:
    """The live agents of any run whose home lies in ``directory``."""
    base = Path(directory).resolve()
    return [agent for agent, _ in _scan() if agent.home.resolve().is_relative_to(base)]


def _scan() -> list[tuple[Agent, list[bytes]]]:
    found = []
    proc = Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_bytes().strip() != b"gpg-agent":
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if argv != [b""]:  # a zombie has neither
            found.append((Agent(int(entry.name), _home(argv, environ)), environ))
    return found


def _home(argv: list[bytes], environ: list[bytes]) -> Path:
    if b"--homedir" in argv[:-1]:
        return Path(os.fsdecode(argv[argv.index(b"--homedir") + 1]))
    for item in environ:
        if item.startswith(b"GNUPGHOME="):
            return Path(os.fsdecode(item.removeprefix(b"GNUPGHOME=")))
    return Path.home() / ".gnupg"


def stop(home: str | os.PathLike[str]) -> None:
    """Stop the agent (and any other GnuPG daemon) of ``home``; nothing when none runs."""
    subprocess.run([GPGCONF, "--homedir", os.fspath(home), "--kill", "all"],
                   check=False, capture_output=True, timeout=30)


def stop_homes_under(directory: str | os.PathLike[str]) -> list[Path]:
    """Stop the daemons of every GnuPG home in ``directory`` (a home an agent has served has
    its ``private-keys-v1.d``); return the homes."""
    homes = [Path(root) for root, dirs, _ in os.walk(directory) if "private-keys-v1.d" in dirs]
    for home in homes:
        stop(home)
    return homes


def stop_all_of_run(mark: str | None = None) -> list[Agent]:
    """Stop every agent still carrying the run's mark; return those that were running."""
    agents = running(mark)
    _stop_and_wait(agents, mark)
    return agents


def _stop_and_wait(agents: list[Agent], mark: str | None = None, timeout: float = 10) -> None:
    if not agents:
        return
    for home in {a.home for a in agents}:
        stop(home)
    pids = {a.pid for a in agents}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pids & {a.pid for a in running(mark)}:
            return
        time.sleep(0.05)
    for pid in pids & {a.pid for a in running(mark)}:  # an agent that ignored gpgconf
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
