"""The example nginx configuration of docs/deploy.md (``docs/deploy/nginx.conf``) run for real
in front of the portal's processes, in production mode (HTTPS, ProxyFix):

- the configuration is valid for this machine's nginx (Debian 12's 1.22 is the documented one);
- a ballot cast through nginx reaches the ballot pool and is accepted there (the lean path over
  HTTPS: CSRF with the page's referrer); pages go to the web processes;
- with the pool stopped, nginx hands casts to the web processes (its backups), which accept
  them: voting goes on while the pool is restarted.

Only addresses, ports and file paths are replaced in the copy nginx runs; every directive is
the example's. These tests skip, saying why, where nginx is not installed (``.ci/run``
installs nginx-light).
"""
from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import requests

from bench import harness
from bench.cast import encrypt_all
from bench.cast import set_up as set_up_referendum
from portal.pades import ensure_test_certificate
from referendum_core.crypto.checkpoint import load_master_key
from tests.deploy.conftest import (
    DEPLOY_DOCS,
    Proc,
    deployment_env,
    free_ports,
    pool_argv,
    portal_command,
    wait_for,
)

HOST = "referendumi.example.lv"  # the example's server_name


def _nginx() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light; .ci/run does)")
    return found


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the example's name and 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def nginx_config(directory: Path, *, http: int, https: int, web: list[int], pool: int) -> Path:
    """The example configuration, its ports, certificate and log paths moved into
    ``directory``, inside a main configuration of its own; returns the main file."""
    cert, key = _certificate(directory)
    text = (DEPLOY_DOCS / "nginx.conf").read_text()
    live = f"/etc/letsencrypt/live/{HOST}"
    replacements = {
        f"{live}/fullchain.pem": str(cert), f"{live}/privkey.pem": str(key),
        "/var/log/nginx/portal.access.json": str(directory / "access.json"),
        "listen 80;": f"listen 127.0.0.1:{http};", "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "server 127.0.0.1:8001": f"server 127.0.0.1:{web[0]}",
        "server 127.0.0.1:8002": f"server 127.0.0.1:{web[1]}",
        "server 127.0.0.1:8101": f"server 127.0.0.1:{pool}",
    }
    for old, new in replacements.items():
        assert old in text, f"docs/deploy/nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    text = re.sub(r"^\s*server 10\.0\.0\.\d+:\d+;.*$", "", text, flags=re.MULTILINE)
    site = directory / "portal.conf"
    site.write_text(text)
    temp = directory / "temp"
    temp.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers read what the test wrote
    main = directory / "nginx.conf"
    main.write_text(
        f"{user}daemon off;\npid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\nevents {{ worker_connections 256; }}\n"
        "http {\n"
        + "".join(f"    {kind}_temp_path {temp / kind};\n"
                  for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + f"    include {site};\n}}\n")
    return main


def test_the_example_configuration_is_valid_for_this_nginx(tmp_path):
    main = nginx_config(tmp_path, http=8080, https=8443, web=[8001, 8002], pool=8101)
    checked = subprocess.run([_nginx(), "-t", "-c", str(main)], capture_output=True, text=True,
                             timeout=30, check=False)
    assert checked.returncode == 0, checked.stderr


def _log_lines(proc: Proc, request_id: str) -> list[dict]:
    return [line for line in (json.loads(raw) for raw in proc.output().splitlines()
                              if raw.startswith("{"))
            if line.get("request_id") == request_id]


@pytest.mark.uses_db
@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_casts_go_to_the_pool_and_to_the_web_processes_while_it_is_down(processes,
                                                                         make_database,
                                                                         tmp_path):
    nginx = _nginx()
    database = make_database("portal_nginx")
    load_master_key(tmp_path / "checkpoint.pem", create=True)
    deployment_env(processes, database, None, PORTAL_ENV="production",
                   CHECKPOINT_KEY_FILE=str(tmp_path / "checkpoint.pem"),
                   CHECKPOINT_LOG_FILE=str(tmp_path / "checkpoints.jsonl"),
                   COMMISSION_SIGNING_PKCS12=str(ensure_test_certificate(
                       tmp_path / "commission.p12", None)),
                   BASE_URL=f"https://{HOST}", VOTER_IDENTITY_PROVIDERS="oidc",
                   VOTER_BALLOT_RATE_LIMIT="100000 per minute")
    http, https, pool_port, *web_ports = free_ports(5)
    webs = [processes.start(f"web-{port}", [*portal_command(), "serve", "--port", str(port)])
            for port in web_ports]
    pool = processes.start("ballots", pool_argv(pool_port))
    (tmp_path / "nginx").mkdir()
    main = nginx_config(tmp_path / "nginx", http=http, https=https, web=web_ports, pool=pool_port)
    edge = processes.start("nginx", [nginx, "-c", str(main)])
    cert = str(tmp_path / "nginx" / "cert.pem")
    base = f"https://127.0.0.1:{https}"
    for port, proc in ((web_ports[0], webs[0]), (web_ports[1], webs[1]), (pool_port, pool)):
        wait_for(lambda p=port: requests.get(f"http://127.0.0.1:{p}/healthz", timeout=5).ok,
                 90, f"port {port}", proc.output, proc=proc)
    wait_for(lambda: requests.get(f"{base}/healthz", headers={"Host": HOST}, verify=cert,
                                  timeout=5).ok, 30, "nginx", edge.output, proc=edge)

    election = set_up_referendum(database, 2)
    ballots = encrypt_all(election, 6, 1)
    referendum_id = election.referendum_id

    def cast_via_nginx(voter: int) -> requests.Response:
        session_cookie, token, cast_token = election.cookies[voter]
        return requests.post(
            f"{base}/api/voting/{referendum_id}/ballots", data=ballots[voter].pop(), timeout=30,
            verify=cert, headers={
                "Host": HOST, "Cookie": f"portal_session={session_cookie}",
                "X-CSRFToken": token, "X-Cast-Token": cast_token,
                "User-Agent": harness.USER_AGENT,
                "Content-Type": "application/json", "Accept": "application/json",
                "Referer": f"https://{HOST}/voting/{referendum_id}"})

    def answered_by(response: requests.Response) -> set[str]:
        request_id = response.headers["X-Request-ID"]  # nginx's $request_id, logged by the portal
        return {proc.name for proc in (*webs, pool) if _log_lines(proc, request_id)}

    # Casts reach the pool (its first in each worker parses the election; then the lean path).
    for voter in (0, 1, 0, 1):
        answer = cast_via_nginx(voter)
        assert answer.status_code == 201, answer.text
        assert wait_for(lambda a=answer: answered_by(a), 15, "the cast's log line",
                        pool.output) == {"ballots"}
    page = requests.get(f"{base}/login", headers={"Host": HOST}, verify=cert, timeout=10)
    assert page.status_code == 200
    assert wait_for(lambda: answered_by(page), 15, "the page's log line") <= {
        proc.name for proc in webs}

    # The pool stops: casts go on, answered by the web processes.
    os.killpg(pool.popen.pid, signal.SIGTERM)
    pool.popen.wait(timeout=60)
    for voter in (0, 1):
        answer = cast_via_nginx(voter)
        assert answer.status_code == 201, answer.text
        by = wait_for(lambda a=answer: answered_by(a), 15, "the cast's log line")
        assert by <= {proc.name for proc in webs} and len(by) == 1
    assert edge.popen.poll() is None
