"""What every response carries and what no request may do: security headers, HTTPS-only
cookies behind TLS, an offline /docs, the upload form's limits, and no temp file outliving the
upload that wrote it, a killed server's included."""

import os
import time
import uuid

from fastapi.testclient import TestClient

from api.clips.service import get_store
from api.clips.upload import MAX_FIELDS, MAX_FORM_BYTES
from tests.accounts import PASSWORD, make_user
from tests.services import backend_env, serve_process


def test_pages_and_api_answers_carry_the_security_headers(app, anonymous):
    for path in ("/login", "/api/v1/health", "/static/app.js"):
        headers = anonymous.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers  # plain HTTP: HSTS would mean nothing


def test_over_https_every_cookie_is_secure_and_hsts_is_sent(app):
    # The scheme a proxy reports with X-Forwarded-Proto reaches the app the same way (uvicorn
    # --forwarded-allow-ips); the TestClient gives it directly.
    client = TestClient(app, base_url="https://testserver")
    assert client.get("/login").headers["strict-transport-security"].startswith("max-age=")
    username = f"tls-{uuid.uuid4().hex[:8]}"
    make_user(username)
    signed_in = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    cookies = signed_in.headers.get_list("set-cookie")
    assert signed_in.status_code == 200 and cookies
    assert all("secure" in cookie.lower() for cookie in cookies)


def test_docs_are_served_from_this_server(anonymous):
    page = anonymous.get("/docs")
    assert page.status_code == 200
    assert "http" not in page.text.split("<body>")[1], "no asset may come from another host"
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/static/docs.js"):
        assert anonymous.get(asset).status_code == 200, asset
    assert "<script>" not in page.text  # no inline script: the CSP would block it


def test_the_upload_form_refuses_a_flood_of_fields(app_client, fixtures):
    flood = {f"field{i}": "x" for i in range(MAX_FIELDS + 10)}
    refused = app_client.post(
        "/api/v1/clips", data={"badge_number": "4711", **flood}, files={"file": ("a.mp4", b"\x00" * 10, "video/mp4")}
    )
    assert refused.status_code == 413 and "more than" in refused.json()["detail"]
    big = app_client.post(
        "/api/v1/clips",
        data={f"f{i}": "y" * 60_000 for i in range(MAX_FORM_BYTES // 60_000 + 1)},
        files={"file": ("a.mp4", b"\x00" * 10, "video/mp4")},
    )
    assert big.status_code == 413 and "together" in big.json()["detail"]
    assert not list((get_store().tmp_dir / "uploads").iterdir()), "a refused upload leaves no temp file"


def test_server_start_up_removes_what_a_killed_server_was_receiving(tmp_path):
    env = backend_env("sqlite", tmp_path / "data")
    uploads = tmp_path / "data" / "store" / "tmp" / "uploads"
    uploads.mkdir(parents=True)
    partial = uploads / "partial-upload"
    partial.write_bytes(b"\x00" * 100_000)
    stale_stage = uploads.parent / "stage-output.mp4"
    stale_stage.write_bytes(b"\x00" * 1000)
    an_hour_ago = time.time() - 2 * 3600
    os.utime(stale_stage, (an_hour_ago, an_hour_ago))
    fresh_stage = uploads.parent / "in-progress.mp4"  # a live worker's file is not touched
    fresh_stage.write_bytes(b"\x00")
    with serve_process(env, tmp_path / "serve.log", with_worker=False) as (_, client):
        assert client.get("/api/v1/health").status_code == 200
        assert not partial.exists() and not stale_stage.exists()
        assert fresh_stage.exists()
