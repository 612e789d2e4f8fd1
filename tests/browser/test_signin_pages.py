"""In a real browser, under the real Content-Security-Policy: an admin makes a reset link and a
token with an expiry; a user sets a password with the link; the password page shows why a password
is refused. (The `sign_in` fixture fails a test on any JavaScript error or CSP refusal.)"""

import re

from playwright.sync_api import expect

from tests.services import TESTER_PASSWORD

NEW_PASSWORD = "juniper ledger canyon 64"


def test_an_admin_makes_a_reset_link_and_the_user_sets_a_password_with_it(sign_in, chromium, live):
    admin = sign_in("tester")
    admin.goto("/admin")
    admin.click("summary:has-text('Reset a password')")
    admin.fill("#reset-password input[name=username]", "committee")
    admin.click("#reset-password button[type=submit]")
    link = admin.locator("#reset-secret code").inner_text()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/reset\?code=[\w-]+", link), link

    context = chromium.new_context()
    try:
        user = context.new_page()
        user.goto(link)
        assert "committee" in user.locator("main").inner_text()
        user.fill("#new_password", NEW_PASSWORD)
        user.fill("#repeat_password", NEW_PASSWORD)
        user.click("button[type=submit]")
        user.wait_for_url(re.compile(r"/login\?reset=1$"))
        user.fill("#username", "committee")
        user.fill("#password", NEW_PASSWORD)
        user.click("button[type=submit]")
        user.wait_for_url(re.compile(r"/nominations$"))
    finally:
        context.close()


def test_an_admin_gives_a_token_an_expiry(sign_in):
    admin = sign_in("tester")
    admin.goto("/admin")
    admin.fill("#new-token input[name=name]", "week-long push")
    admin.fill("#new-token input[name=expires_in_days]", "7")
    admin.click("#new-token button[type=submit]")
    expect(admin.locator("#token-secret")).to_contain_text("It expires")
    row = admin.locator('#admin-tokens tr[data-token-name="week-long push"]')
    expect(row.locator(".token-expires")).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d"))


def test_the_password_page_says_why_a_password_is_refused(sign_in):
    page = sign_in("reviewer")
    page.goto("/account/password")
    page.fill("#current", TESTER_PASSWORD)
    page.fill("#new", "Summer2026!!")
    page.click("#password-form button[type=submit]")
    message = page.locator("#password-message")
    message.filter(has_text="too easy to guess").wait_for()
    assert "bad" in message.get_attribute("class")
