"""The app's frame: health, readiness, metrics, errors, headers, body limit, CORS, site settings."""

from __future__ import annotations

from engagement.services.sites import SiteChanges, add_site
from engagement.web import create_app
from web.support import ORIGIN, RecordingClient, body


def test_health_and_readiness(client):
    assert body(client.get("/healthz")) == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert body(ready) == {"status": "ok", "database": True, "broker": True}


def test_readiness_is_503_when_the_broker_is_unreachable(core, site):
    settings = core.settings.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"})
    with RecordingClient(create_app(settings, core)) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert body(ready) == {"status": "unavailable", "database": True, "broker": False}


def test_metrics_count_requests_by_route_template(client):
    client.get("/api/v1/sites/daily")
    text = client.get("/metrics").text
    assert 'route="/api/v1/sites/{site}"' in text
    assert "engagement_http_request_duration_seconds_bucket" in text


def test_site_settings_are_public_and_hold_no_address(client, site):
    response = client.get("/api/v1/sites/daily")
    assert response.status_code == 200
    settings = body(response)
    assert settings["name"] == "The Daily Example"
    assert settings["support"]["text"] == "Help us grow. Support The Daily Example on Patreon!"
    assert [r["key"] for r in settings["reactions"]] == ["like", "love", "haha", "wow", "sad", "angry"]
    assert settings["edit_window_seconds"] == 900
    assert "mod@example.org" not in response.text


def test_unknown_site_is_404_with_a_reason(client):
    response = client.get("/api/v1/sites/nope")
    assert response.status_code == 404
    assert body(response) == {"code": "site_not_found", "reason": "no site with key 'nope'"}


def test_security_headers_on_every_answer(client):
    response = client.get("/api/v1/sites/daily")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_a_body_over_the_limit_is_413_declared_or_streamed(client):
    big = b"{" + b" " * (70 * 1024) + b"}"
    declared = client.post("/api/v1/counts", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413
    assert body(declared)["code"] == "too_large"

    def chunks():
        for _ in range(70):
            yield b" " * 1024

    streamed = client.post("/api/v1/counts", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_cors_answers_the_sites_origins_only(client, core, site):
    add_site(core.uow(), "other", SiteChanges(name="Other", origins=["https://other.example.net"]))
    client.app.state.origins.forget()
    preflight = client.options(
        "/api/v1/comments",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-engagement-reader",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "X-Engagement-Reader" in preflight.headers["access-control-allow-headers"]

    stranger = client.options(
        "/api/v1/comments",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert stranger.status_code == 403
    assert "access-control-allow-origin" not in stranger.headers

    own = client.get("/api/v1/sites/daily", headers={"Origin": ORIGIN})
    assert own.headers["access-control-allow-origin"] == ORIGIN
    assert "Origin" in own.headers["vary"]

    # The other site's origin may not read, nor act on, this site.
    foreign = client.get("/api/v1/sites/daily", headers={"Origin": "https://other.example.net"})
    assert foreign.status_code == 403
    assert "access-control-allow-origin" not in foreign.headers
    assert (
        client.get("/api/v1/sites/other", headers={"Origin": "https://other.example.net"}).status_code == 200
    )


def test_same_origin_requests_need_no_cors(client, site):
    response = client.get("/api/v1/sites/daily", headers={"Origin": "http://testserver"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_unknown_path_and_method_answer_json(client):
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404
    assert body(missing)["code"] == "not_found"
    wrong = client.delete("/api/v1/sites/daily")
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["allow"]


def test_openapi_document_lists_the_routes(client):
    document = body(client.get("/openapi.json"))
    assert "/api/v1/sites/{site}" in document["paths"]
    assert "404" in document["paths"]["/api/v1/sites/{site}"]["get"]["responses"]


def test_the_address_scanner_catches_an_address_that_comes_back(app, site):
    # The check every API test runs at teardown must itself work: an echoed address is found.
    with RecordingClient(app) as client:
        client.post(
            "/api/v1/subscriptions", json={"site": "daily", "email": "leak@mail.example.net", "kind": 1}
        )
        client.bodies.append(("http://testserver/fake", '{"email": "leak@mail.example.net"}'))
        assert client.leaked() == ["http://testserver/fake returned leak@mail.example.net"]


def test_an_unreachable_database_is_503_not_500(tmp_path):
    from engagement.config import load_settings
    from engagement.core import build_core

    settings = load_settings(
        data_dir=tmp_path, database_url="postgresql+psycopg://postgres@127.0.0.1:1/none", secret_key="s" * 40
    )
    down = build_core(settings)
    try:
        with RecordingClient(create_app(settings, down)) as client:
            answer = client.get("/api/v1/sites/daily")
            assert answer.status_code == 503
            assert answer.headers["retry-after"] == "5"
            assert body(answer)["code"] == "unavailable"
            assert client.get("/readyz").status_code == 503
            counts = client.post("/api/v1/counts", json={"site": "daily", "pages": ["/a"]})  # the fast path's
            assert counts.status_code == 503
            assert body(counts)["code"] == "unavailable"
            preflight = client.options(
                "/api/v1/comments", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
            )
            assert preflight.status_code == 403
    finally:
        down.dispose()


def test_https_servers_ask_for_https_only(core, site):
    assert (
        "strict-transport-security"
        not in RecordingClient(create_app(core.settings, core)).get("/healthz").headers
    )
    settings = core.settings.model_copy(update={"base_url": "https://comments.example.org"})
    with RecordingClient(create_app(settings, core)) as client:
        assert client.get("/healthz").headers["strict-transport-security"] == "max-age=31536000"
