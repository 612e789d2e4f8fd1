"""Throttling: too many failures from one address, or on one account, make the next attempt wait
a growing interval (429 with Retry-After); nothing sleeps in the server."""

import time

from api.users import throttle
from tests.accounts import make_user
from tests.api.signin_kit import (
    Forms,
    api_sign_in,
    audit_events,
    browser_at,
    move_back,
    new_address,
    paced_sign_in,
    unique,
)


def fail_from(app, address: str, count: int) -> None:
    """`count` wrong guesses from one address, each at another made-up name (no account's own limit)."""
    with browser_at(app, address) as stranger:
        for _ in range(count):
            assert api_sign_in(stranger, unique("spray"), "guess guess guess").status_code == 401


def test_an_address_waits_longer_after_each_further_failure(app):
    address, free = new_address(), throttle.PER_ADDRESS.free
    fail_from(app, address, free)
    waits = []
    with browser_at(app, address) as stranger:
        for _ in range(4):
            refused = api_sign_in(stranger, unique("spray"), "guess guess guess")
            assert refused.status_code == 429 and "try again in" in refused.json()["detail"]
            waits.append(int(refused.headers["retry-after"]))
            move_back(waits[-1], source=address)
            assert api_sign_in(stranger, unique("spray"), "guess guess guess").status_code == 401
    assert waits == [1, 2, 4, 8]


def test_a_throttled_address_is_refused_even_the_right_password_and_others_are_not(app):
    name = unique("pia")
    make_user(name, ["officer"])
    address = new_address()
    fail_from(app, address, throttle.PER_ADDRESS.free)
    with browser_at(app, address) as same, browser_at(app) as elsewhere:
        assert api_sign_in(same, name).status_code == 429, "refused before the password is checked"
        assert api_sign_in(elsewhere, name).status_code == 200


def test_an_account_is_throttled_whatever_the_address(app):
    name = unique("quin")
    make_user(name, ["officer"])
    for _ in range(throttle.PER_ACCOUNT.free):
        with browser_at(app) as stranger:
            assert api_sign_in(stranger, name, "guess guess guess").status_code == 401
    with browser_at(app) as another:
        refused = api_sign_in(another, name, "guess guess guess")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == str(int(throttle.PER_ACCOUNT.base_seconds))


def test_hammering_while_throttled_does_not_lengthen_the_wait(app):
    name = unique("rosa")
    make_user(name, ["officer"])
    address = new_address()
    with browser_at(app, address) as stranger:
        for _ in range(throttle.PER_ACCOUNT.free):
            api_sign_in(stranger, name, "guess guess guess")
        waits = {api_sign_in(stranger, name, "guess guess guess").headers["retry-after"] for _ in range(10)}
        assert waits == {"2"}
        move_back(2, username=name, source=address)
        assert paced_sign_in(stranger, name, address).status_code == 200, "the real user gets in after the wait"


def test_a_throttled_answer_comes_at_once_and_is_audited(app):
    address = new_address()
    fail_from(app, address, throttle.PER_ADDRESS.free)
    with browser_at(app, address) as stranger:
        started = time.monotonic()
        refused = api_sign_in(stranger, unique("spray"), "guess guess guess")
        elapsed = time.monotonic() - started
    assert refused.status_code == 429 and elapsed < float(refused.headers["retry-after"]), "no sleep in the server"
    throttled = [
        e
        for e in audit_events("auth.login", outcome="failure", source=address)
        if e.details["reason"].startswith("throttled")
    ]
    assert len(throttled) == 1 and throttled[0].details["reason"] == "throttled by address"


def test_the_sign_in_page_says_when_to_try_again(app):
    name = unique("sven")
    make_user(name, ["officer"])
    with browser_at(app) as browser:
        for _ in range(throttle.PER_ACCOUNT.free):
            api_sign_in(browser, name, "guess guess guess")
        fields = Forms(browser.get("/login").text).form("/login")
        page = browser.post("/login", data={**fields, "username": name, "password": "guess guess guess"})
    assert page.status_code == 429 and page.headers["retry-after"] == "2"
    assert "try again in 2 seconds" in page.text


def test_the_delays_grow_to_a_cap():
    rule = throttle.PER_ADDRESS
    assert [rule.delay(rule.free - 1), rule.delay(rule.free), rule.delay(rule.free + 3)] == [0, 1, 8]
    assert rule.delay(rule.free + 40) == rule.cap_seconds
