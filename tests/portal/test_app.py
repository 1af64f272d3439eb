"""App factory, configuration, security headers, error pages, health check, language."""
from __future__ import annotations

import pytest

from portal.config import ConfigError, from_env
from portal.pades import ensure_test_certificate
from portal.security import CSP
from referendum_core.crypto.checkpoint import load_master_key


def test_healthz_answers_200(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_strict_security_headers_on_every_page(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert csp == CSP
    assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_style(client):
    html = client.get("/login").get_data(as_text=True)
    assert "<script>" not in html and "style=" not in html and "onclick" not in html


def test_latvian_is_default_and_english_can_be_chosen(client):
    html = client.get("/").get_data(as_text=True)
    assert 'lang="lv"' in html
    assert "Vietējie referendumi Latvijā" in html
    client.post("/lang/en", data={"next": "/"})
    html = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in html
    assert "Local referendums in Latvia" in html


def test_language_switch_does_not_redirect_elsewhere(client):
    response = client.post("/lang/en", data={"next": "https://evil.example/"})
    assert response.headers["Location"] == "/"
    response = client.post("/lang/en", data={"next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_friendly_translated_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Lapa netika atrasta." in response.get_data(as_text=True)


def test_404_as_json_for_api(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


def test_production_refuses_to_start_without_real_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    env = {"PORTAL_ENV": "production", "BASE_URL": "https://portal.example.lv",
           "VOTER_IDENTITY_PROVIDERS": "oidc"}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        from_env(env).validate()
    env |= {"SECRET_KEY": "s" * 40, "DATA_KEY": "d" * 40, "SESSION_COOKIE_SECURE": "false"}
    with pytest.raises(ConfigError, match="HTTPS"):
        from_env(env).validate()
    env["SESSION_COOKIE_SECURE"] = "true"
    with pytest.raises(ConfigError, match="CHECKPOINT_KEY_FILE"):
        from_env(env).validate()
    key_file = tmp_path / "checkpoint.pem"
    load_master_key(key_file, create=True)
    env |= {"CHECKPOINT_KEY_FILE": str(key_file)}
    with pytest.raises(ConfigError, match="CHECKPOINT_LOG_FILE"):
        from_env(env).validate()
    env |= {"CHECKPOINT_LOG_FILE": str(tmp_path / "checkpoints.jsonl")}
    with pytest.raises(ConfigError, match="COMMISSION_SIGNING_PKCS12"):
        from_env(env).validate()
    env |= {"COMMISSION_SIGNING_PKCS12": str(
        ensure_test_certificate(tmp_path / "commission.p12", None))}
    from_env(env).validate()
    with pytest.raises(ConfigError, match="one-time-code"):
        from_env(env | {"VOTER_IDENTITY_PROVIDERS": "otp"}).validate()


def test_development_defaults_are_safe_and_outside_the_repo(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    cfg = from_env({})
    assert cfg.SECRET_KEY.startswith("dev-insecure-")
    assert (tmp_path / "secret_key.secret").exists()
    assert cfg.DATABASE_URL.startswith("sqlite:///")
    assert cfg.REDIS_URL is None
    assert from_env({}).SECRET_KEY == cfg.SECRET_KEY  # stable across restarts


def test_unexpected_error_gives_friendly_500_and_rolls_back(app, client):
    @app.get("/boom-test")
    def boom():
        raise RuntimeError("boom")

    response = client.get("/boom-test")
    assert response.status_code == 500
    assert "Nekas netika saglabāts" in response.get_data(as_text=True)


def test_side_effects_of_a_task_fire_only_after_its_commit(app):
    from portal.database import in_transaction, on_commit

    fired = []
    with app.app_context():
        def work(session):
            on_commit(lambda: fired.append("sent"))
            assert fired == []
            return 1

        assert in_transaction(work) == 1
        assert fired == ["sent"]

        def failing(session):
            on_commit(lambda: fired.append("never"))
            raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            in_transaction(failing)
    assert fired == ["sent"]


def test_side_effects_of_a_request_wait_for_commit_and_vanish_on_error(app, client):
    from flask import abort

    from portal.database import on_commit

    fired = []

    @app.get("/side-effect-ok")
    def ok():
        on_commit(lambda: fired.append("ok"))
        return "fine"

    @app.get("/side-effect-refused")
    def refused():
        on_commit(lambda: fired.append("refused"))
        abort(403)

    assert client.get("/side-effect-ok").status_code == 200
    assert client.get("/side-effect-refused").status_code == 403
    assert fired == ["ok"]


def test_nul_bytes_and_unstorable_values_are_bad_input_not_errors(client, people, login_as):
    """PostgreSQL refuses NUL in text; found by the PostgreSQL pass of the security tests."""
    login_as(people.cvk_admin())
    response = client.get("/audit/", query_string={"action": "a\x00b"})
    assert response.status_code == 400
    assert "Pieprasījumu neizdevās saprast" in response.get_data(as_text=True)
    assert client.get("/audit/").status_code == 200
