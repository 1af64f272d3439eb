"""``/readyz``, ``/metrics`` (and who may read it) and the request id of every response."""
from __future__ import annotations

import os
import re
import secrets

import pytest

from portal import metrics
from portal.logging import REQUEST_ID_HEADER

UNREACHABLE_REDIS = "redis://127.0.0.1:1/11"  # nothing listens on port 1
# Queue names of this run's own: runs on one Redis at once (both passes of `make test`, other
# engineers) never count or delete each other's entries.
QUEUE = f"ops-test-{secrets.token_hex(4)}"
HEARTBEAT_QUEUE = f"ops-heartbeat-test-{secrets.token_hex(4)}"


def test_public_readyz_says_ready_or_not_and_nothing_more(client):
    """Key ids, versions and check names are for monitoring, not for anyone who asks."""
    response = client.get("/readyz", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_details_are_only_for_who_may_read_metrics(app, client):
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/readyz/details", environ_base=outside).status_code == 403
    assert client.get("/metrics", environ_base=outside).status_code == 403
    app.config["METRICS_TOKEN"] = "monitoring-secret"
    assert client.get("/readyz/details").status_code == 403
    answer = client.get("/readyz/details",
                        headers={"Authorization": "Bearer monitoring-secret"})
    assert answer.status_code == 200 and "gpg" in answer.get_json()["checks"]


def test_public_readyz_503_names_no_check(client, monkeypatch):
    from portal.ops import views
    from portal.ops.checks import FAIL, CheckResult

    monkeypatch.setattr(views, "run_checks", lambda _app: [
        CheckResult("gpg", FAIL, "archive key 0123456789ABCDEF missing")])
    response = client.get("/readyz", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 503 and response.get_json() == {"status": "not ready"}


def test_readyz_answers_each_check(client):
    response = client.get("/readyz/details")
    body = response.get_json()
    assert response.status_code == 200, {k: v for k, v in body["checks"].items() if v["status"] == "fail"}
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "schema", "redis", "gpg", "celery"}
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["schema"]["status"] == "ok"
    # No REDIS_URL in tests: Redis and Celery are "not configured", which is not a failure.
    assert body["checks"]["redis"]["status"] == "skip"
    assert body["checks"]["celery"]["status"] == "skip"
    assert body["checks"]["gpg"]["status"] in {"ok", "warn"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("stored, word", [
    (["ce844ae6efb6"], "not applied"),  # behind: only the foundation migration
    (["0123456789ab"], "does not know"),  # ahead: a revision from newer code
])
def test_readyz_fails_when_the_schema_differs(app, client, stored, word):
    from sqlalchemy import text

    # The check reads through the engine, not the test's transaction: change the table there.
    engine = app.extensions["portal_db"].engine
    with engine.begin() as conn:
        saved = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        conn.execute(text("DELETE FROM alembic_version"))
        for revision in stored:
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": revision})
    try:
        response = client.get("/readyz/details")
        body = response.get_json()
        assert response.status_code == 503
        assert body["status"] == "not ready"
        assert body["checks"]["schema"]["status"] == "fail"
        assert word in body["checks"]["schema"]["detail"]
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
            for revision in saved:
                conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": revision})


class TestRedisDown:
    """Redis unreachable: pages keep working, healthz says up, readyz says not ready."""

    @pytest.fixture()
    def app_overrides(self):
        return {"REDIS_URL": UNREACHABLE_REDIS}

    def test_pages_served_and_readyz_reports_redis(self, client):
        assert client.get("/healthz").status_code == 200
        assert client.get("/").status_code == 200
        response = client.get("/readyz/details")
        body = response.get_json()
        assert response.status_code == 503
        assert body["checks"]["redis"]["status"] == "fail"
        assert body["checks"]["redis"]["detail"].startswith("unreachable")
        assert body["checks"]["database"]["status"] == "ok"
        assert "127.0.0.1" not in response.get_data(as_text=True)  # no addresses leak


class TestSignInWithRedisDown:
    """Rate-limit counters live in Redis; when it is down they fall back to this process
    instead of failing every sign-in with a 500."""

    @pytest.fixture()
    def app_overrides(self):
        return {"REDIS_URL": UNREACHABLE_REDIS, "RATELIMIT_ENABLED": True,
                "RATELIMIT_STORAGE_URI": UNREACHABLE_REDIS}

    def test_sign_in_answers_and_limits_still_count(self, client):
        statuses = [client.post("/login", data={"email": "a@example.lv", "password": "x"})
                    .status_code for _ in range(11)]
        assert 500 not in statuses
        assert statuses[0] == 401 and statuses[-1] == 429  # 10 per minute, counted in memory


@pytest.mark.redis
class TestRedisUp:
    @pytest.fixture()
    def app_overrides(self):
        url = os.environ.get("REDIS_URL")
        if not url:
            pytest.skip("REDIS_URL is not set (.ci/run sets it when Redis answers)")
        # A database number of our own: no other engineer's Celery worker answers the ping there.
        return {"REDIS_URL": re.sub(r"/\d+$", "", url) + "/11", "CELERY_QUEUE": QUEUE}

    def test_redis_ok_and_a_missing_worker_only_warns(self, client):
        response = client.get("/readyz/details")
        body = response.get_json()
        assert body["checks"]["redis"]["status"] == "ok"
        assert body["checks"]["celery"]["status"] == "warn", body
        assert response.status_code == 200

    def test_worker_required_makes_it_fail(self, app, client):
        app.config["READYZ_REQUIRE_WORKER"] = True
        response = client.get("/readyz/details")
        assert response.status_code == 503
        assert response.get_json()["checks"]["celery"]["status"] == "fail"

    def test_queue_depth_in_metrics(self, app, client):
        import redis

        r = redis.Redis.from_url(app.config["REDIS_URL"])
        r.rpush(QUEUE, "a", "b", "c")
        try:
            text = client.get("/metrics").get_data(as_text=True)
        finally:
            r.delete(QUEUE)
            r.close()
        assert f'portal_celery_queue_depth{{queue="{QUEUE}"}} 3.0' in text


def test_request_id_generated_or_kept(client):
    generated = client.get("/healthz").headers[REQUEST_ID_HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    kept = client.get("/healthz", headers={REQUEST_ID_HEADER: "nginx-5f0c1d2e3a4b"})
    assert kept.headers[REQUEST_ID_HEADER] == "nginx-5f0c1d2e3a4b"
    for bad in ("short", "has space in it", "x" * 200, "<script>alert(1)</script>"):
        answered = client.get("/healthz", headers={REQUEST_ID_HEADER: bad}).headers[REQUEST_ID_HEADER]
        assert answered != bad and re.fullmatch(r"[0-9a-f]{32}", answered)


def test_request_id_on_error_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert REQUEST_ID_HEADER in response.headers


def test_metrics_count_requests_by_endpoint(client):
    before = metrics.http_requests.labels(endpoint="main.healthz", method="GET",
                                          status="200")._value.get()
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page")
    text = client.get("/metrics").get_data(as_text=True)
    after = metrics.http_requests.labels(endpoint="main.healthz", method="GET",
                                         status="200")._value.get()
    assert after == before + 2
    assert 'portal_http_requests_total{endpoint="unmatched",method="GET",status="404"}' in text
    assert "portal_http_request_duration_seconds_bucket" in text
    assert "portal_socket_connections" in text
    assert "portal_ballots_accepted_total" in text
    assert 'portal_celery_queue_depth{queue="portal"} 0.0' in text
    # No paths, ids or query strings as label values: only endpoint names.
    assert "/no-such-page" not in text


def test_metrics_refused_outside_the_allow_list(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                          headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert "portal_http" not in response.get_data(as_text=True)


class TestMetricsToken:
    @pytest.fixture()
    def app_overrides(self):
        return {"METRICS_TOKEN": "t0ken-for-prometheus-0123456789", "METRICS_ALLOW": ()}

    def test_bearer_token_required(self, client):
        far = {"REMOTE_ADDR": "203.0.113.9"}
        assert client.get("/metrics", environ_base=far).status_code == 403
        wrong = {"Authorization": "Bearer nope"}
        assert client.get("/metrics", environ_base=far, headers=wrong).status_code == 403
        right = {"Authorization": "Bearer t0ken-for-prometheus-0123456789"}
        response = client.get("/metrics", environ_base=far, headers=right)
        assert response.status_code == 200
        assert response.content_type.startswith("text/plain")


@pytest.mark.redis
def test_heartbeat_age_in_metrics(app, client):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set (.ci/run sets it when Redis answers)")
    import redis

    from portal.ops.tasks import heartbeat, heartbeat_key

    app.config["REDIS_URL"] = re.sub(r"/\d+$", "", os.environ["REDIS_URL"]) + "/11"
    app.config["CELERY_QUEUE"] = HEARTBEAT_QUEUE
    with app.app_context():
        heartbeat.run()
    r = redis.Redis.from_url(app.config["REDIS_URL"])
    try:
        assert r.get(heartbeat_key(HEARTBEAT_QUEUE)) is not None
        text = client.get("/metrics").get_data(as_text=True)
    finally:
        r.delete(heartbeat_key(HEARTBEAT_QUEUE))
        r.close()
    line = next(row for row in text.splitlines()
                if row.startswith(f'portal_celery_heartbeat_age_seconds{{queue="{HEARTBEAT_QUEUE}"}}'))
    assert 0.0 <= float(line.split()[-1]) < 60
