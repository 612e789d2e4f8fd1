"""The sign-in form's CSRF token (login CSRF): a signed, dated double-submit cookie. Scripts that
sign in through the JSON API need no cookie."""

import time

from fastapi.testclient import TestClient

from api.auth import LOGIN_CSRF_COOKIE, LOGIN_CSRF_MAX_AGE, SESSION_COOKIE, _sign
from api.db import session_scope
from tests.accounts import PASSWORD, make_user
from tests.api.signin_kit import Forms, browser_at, form_sign_in, unique


def test_the_sign_in_page_hands_out_the_token_in_the_form_and_in_a_cookie(app):
    with browser_at(app) as browser:
        page = browser.get("/login")
        field = Forms(page.text).form("/login")["csrf_token"]
        assert field and browser.cookies[LOGIN_CSRF_COOKIE] == field
        cookie = page.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie


def test_a_form_post_without_the_right_token_opens_no_session(app):
    name = unique("abe")
    make_user(name, ["reviewer"])
    with browser_at(app) as browser:
        browser.get("/login")
        for sent in ({}, {"csrf_token": "forged"}, {"csrf_token": "forgé"}):
            refused = browser.post(
                "/login", data={"username": name, "password": PASSWORD, **sent}, follow_redirects=False
            )
            assert refused.status_code == 403 and "expired" in refused.text
            assert SESSION_COOKIE not in browser.cookies
        assert form_sign_in(browser, name).status_code == 303
        assert SESSION_COOKIE in browser.cookies


def test_a_token_this_server_did_not_sign_or_signed_long_ago_is_refused(app):
    name = unique("bea")
    make_user(name, ["reviewer"])
    with session_scope() as session:
        body = f"nonce.{int(time.time() - LOGIN_CSRF_MAX_AGE.total_seconds() - 60)}"
        stale = f"{body}.{_sign(session, body)}"
    made_up = "nonce.9999999999." + "0" * 64
    for token in (stale, made_up):
        with browser_at(app) as browser:  # another site cannot set both, but test that signing matters too
            browser.cookies.set(LOGIN_CSRF_COOKIE, token)
            refused = browser.post(
                "/login", data={"username": name, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
            )
            assert refused.status_code == 403


def test_scripts_sign_in_through_the_json_api_without_cookies(app):
    name = unique("cal")
    make_user(name, ["reviewer"])
    with TestClient(app, client=("203.0.113.9", 50000)) as script:
        response = script.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        assert response.status_code == 200 and response.json()["token"]
        assert LOGIN_CSRF_COOKIE not in script.cookies
