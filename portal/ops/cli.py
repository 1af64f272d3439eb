"""``referendum-portal serve | worker | beat | check``: the processes of a deployment.

``serve`` replaces itself with gunicorn (so systemd's main process is gunicorn's master, and its
signals — TERM to stop gracefully, HUP to reload — reach it directly). ``serve --dev`` keeps the
development server of ``make run``. See ``docs/deploy.md``.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from portal.command import command_app
from portal.config import ConfigError, from_env

WORKER_CLASSES = {
    # gevent: one process holds thousands of WebSocket connections (Socket.IO), psycopg and
    # redis-py cooperate once gevent has patched the standard library.
    "gevent": "gevent",
    # gthread: plain threads; for CPU-heavy request handlers (ballot proofs) behind a bounded queue.
    "gthread": "gthread",
    "sync": "sync",
}


def gunicorn_argv(*, host: str, port: int, workers: int, worker_class: str, threads: int,
                  worker_connections: int, timeout: int) -> list[str]:
    """The command line ``serve`` runs: gunicorn on ``portal.wsgi:app`` with the portal's hooks."""
    argv = [sys.executable, "-m", "gunicorn", "--config", "python:portal.gunicorn_conf",
            "--bind", f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "--workers", str(workers), "--worker-class", WORKER_CLASSES[worker_class],
            "--timeout", str(timeout), "--graceful-timeout", str(timeout),
            "--keep-alive", "5"]
    if worker_class == "gevent":
        argv += ["--worker-connections", str(worker_connections)]
    if worker_class == "gthread":
        argv += ["--threads", str(threads)]
    return [*argv, "portal.wsgi:app"]


def _prepare_metrics_dir(workers: int, environ: dict[str, str]) -> None:
    """Several workers share metrics through PROMETHEUS_MULTIPROC_DIR; make one if none is set."""
    if workers > 1 and not environ.get("PROMETHEUS_MULTIPROC_DIR"):
        environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="portal-metrics-")
        environ["PORTAL_METRICS_DIR_OWNED"] = "1"


def served_base_url(host: str, port: int) -> str:
    """The address a browser on this machine reaches ``host:port`` at (any-address binds are
    reached through the loopback address)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, type=int, show_default=True)
@click.option("--dev", is_flag=True, help="Flask's development server (one process, threads).")
@click.option("--workers", default=1, type=click.IntRange(1, 64), show_default=True,
              help="gunicorn workers. Keep 1 and run more processes behind nginx: Socket.IO's "
                   "long-polling fallback needs each client to stay on one worker.")
@click.option("--worker-class", type=click.Choice(sorted(WORKER_CLASSES)), default="gevent",
              show_default=True)
@click.option("--threads", default=8, type=click.IntRange(1, 256), show_default=True,
              help="Threads per worker (gthread).")
@click.option("--worker-connections", default=5000, type=click.IntRange(1, 100000),
              show_default=True, help="Simultaneous connections per worker (gevent).")
@click.option("--timeout", default=30, type=click.IntRange(5, 600), show_default=True,
              help="Seconds before a stuck worker is restarted; also the graceful-stop time.")
def serve(host: str, port: int, dev: bool, workers: int, worker_class: str, threads: int,
          worker_connections: int, timeout: int) -> None:
    """Serve the portal: gunicorn (production), or the development server with --dev.

    Links the portal writes (invitations, e-mails, the demo's on-screen invitation link) start
    with ``BASE_URL``; when it is not set, it is the address served here, so they point at
    the port actually listened on."""
    os.environ.setdefault("BASE_URL", served_base_url(host, port))
    if dev:
        app = command_app()
        click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C stops)")
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
        return
    try:
        from_env().validate()  # refuse bad production settings before starting any worker
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    argv = gunicorn_argv(host=host, port=port, workers=workers, worker_class=worker_class,
                         threads=threads, worker_connections=worker_connections, timeout=timeout)
    environ = dict(os.environ)
    _prepare_metrics_dir(workers, environ)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, environ)  # noqa: S606 - our own interpreter, fixed argv


def _celery_app() -> tuple[Any, Any]:
    """The Celery app bound, for a worker or beat, to the command's portal app."""
    from portal.celery_app import prepare_worker

    app = command_app()
    if not app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: tasks run inside the portal process "
                                   "and no worker or beat is needed")
    return prepare_worker(app), app


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--concurrency", "-c", default=2, type=click.IntRange(1, 256), show_default=True)
@click.option("--pool", type=click.Choice(["prefork", "threads", "solo"]), default="prefork",
              show_default=True)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(concurrency: int, pool: str, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker for the portal's queue (extra arguments go to ``celery worker``)."""
    celery, app = _celery_app()
    celery.worker_main(["worker", f"--concurrency={concurrency}", f"--pool={pool}",
                        f"--queues={app.config['CELERY_QUEUE']}",
                        f"--loglevel={app.config.get('LOG_LEVEL', 'INFO')}",
                        "--without-mingle", "--without-gossip", *celery_args])


@click.command()
@click.option("--schedule", "schedule_file", type=click.Path(dir_okay=False), default=None,
              help="Where beat keeps its last-run times (default: the instance directory).")
def beat(schedule_file: str | None) -> None:
    """Run Celery beat (periodic tasks). Run exactly one in the whole deployment."""
    celery, app = _celery_app()
    instance = os.environ.get("PORTAL_INSTANCE") or app.instance_path
    path = Path(schedule_file or Path(instance) / "celerybeat-schedule")
    path.parent.mkdir(parents=True, exist_ok=True)
    celery.start(["beat", f"--schedule={path}",
                  f"--loglevel={app.config.get('LOG_LEVEL', 'INFO')}"])


@click.command()
def check() -> None:
    """Check configuration, database, schema version, archive key, Redis and Celery workers.

    Exits 1 when a check fails (``warn`` and ``skip`` do not fail).
    """
    from portal.ops.checks import is_ready, run_checks

    app = command_app()
    click.echo(f"configuration OK ({app.config['ENV']})")
    results = run_checks(app, use_cache=False)
    for result in results:
        click.echo(f"  {result.status:<5} {result.name:<9} {result.detail}")
    if not is_ready(results):
        click.echo("NOT READY", err=True)
        sys.exit(1)
    click.echo("ready")
