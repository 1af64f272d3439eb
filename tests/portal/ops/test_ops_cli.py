"""``referendum-portal serve | worker | beat | check`` (the running deployment is in
``tests/deploy/``)."""
from __future__ import annotations

import os
import sys

import pytest
from click.testing import CliRunner

from portal.cli import main
from portal.ops.cli import _prepare_metrics_dir, gunicorn_argv, served_base_url


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("PORTAL_GNUPGHOME", str(tmp_path / "gnupg"))
    monkeypatch.setenv("LOG_FORMAT", "")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.delenv("BASE_URL", raising=False)
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_gunicorn_command_line():
    argv = gunicorn_argv(host="127.0.0.1", port=8001, workers=1, worker_class="gevent",
                         threads=8, worker_connections=5000, timeout=30)
    assert argv[:3] == [sys.executable, "-m", "gunicorn"]
    assert argv[-1] == "portal.wsgi:app"
    joined = " ".join(argv)
    assert "--bind 127.0.0.1:8001" in joined and "--worker-class gevent" in joined
    assert "--worker-connections 5000" in joined and "--threads" not in joined
    assert "--config python:portal.gunicorn_conf" in joined
    threaded = gunicorn_argv(host="::1", port=8002, workers=2, worker_class="gthread", threads=4,
                             worker_connections=5000, timeout=60)
    assert "--bind [::1]:8002" in " ".join(threaded) and "--threads 4" in " ".join(threaded)


def test_several_workers_get_a_metrics_directory():
    environ: dict[str, str] = {}
    _prepare_metrics_dir(1, environ)
    assert environ == {}
    _prepare_metrics_dir(3, environ)
    assert environ["PROMETHEUS_MULTIPROC_DIR"] and environ["PORTAL_METRICS_DIR_OWNED"] == "1"
    import os

    os.rmdir(environ["PROMETHEUS_MULTIPROC_DIR"])
    kept = {"PROMETHEUS_MULTIPROC_DIR": "/run/portal/metrics-8001"}
    _prepare_metrics_dir(3, kept)
    assert kept == {"PROMETHEUS_MULTIPROC_DIR": "/run/portal/metrics-8001"}


def test_check_reports_each_dependency(env):
    result = run("check")
    assert result.exit_code == 1  # not migrated yet
    assert "fail  schema" in result.output and "NOT READY" in result.output
    assert run("migrate").exit_code == 0
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "configuration OK (development)" in result.output
    for line in ("ok    database", "ok    schema", "skip  redis", "ok    gpg", "skip  celery"):
        assert line in result.output
    assert result.output.rstrip().endswith("ready")


def test_check_refuses_unsafe_production_settings(env, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    result = run("check")
    assert result.exit_code == 1
    assert "configuration refused" in result.output and "SECRET_KEY" in result.output


def test_serve_refuses_unsafe_production_settings_before_starting(env, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    result = run("serve", "--port", "8099")
    assert result.exit_code == 1 and "SECRET_KEY" in result.output


def test_links_point_at_the_port_served_when_base_url_is_not_set(env, monkeypatch):
    # The demo's on-screen invitation link and the e-mails start with BASE_URL: served on
    # port 8099, they must not say 5000.
    monkeypatch.setenv("PORTAL_ENV", "production")  # stops before serving
    run("serve", "--host", "0.0.0.0", "--port", "8099")  # noqa: S104
    assert os.environ["BASE_URL"] == "http://127.0.0.1:8099"
    monkeypatch.setenv("BASE_URL", "https://portal.example.lv")
    run("serve", "--port", "8099")
    assert os.environ["BASE_URL"] == "https://portal.example.lv"
    assert served_base_url("::1", 8001) == "http://[::1]:8001"
    assert served_base_url("portal.local", 8001) == "http://portal.local:8001"


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_need_redis(env, command):
    result = run(command)
    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.output


def test_help_lists_the_deployment_commands():
    result = run("--help")
    for name in ("serve", "worker", "beat", "migrate", "check"):
        assert name in result.output
    assert "--dev" in run("serve", "--help").output
