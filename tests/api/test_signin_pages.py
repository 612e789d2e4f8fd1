"""The sign-in, password, reset and admin pages obey a Content-Security-Policy of
script-src 'self'; style-src 'self': no inline script, no <style>, no style attributes."""

import pytest

from api.audit.service import Actor
from api.db import session_scope
from api.users import service
from tests.accounts import make_user
from tests.api.signin_kit import browser_at, form_sign_in, unique
from tests.html import form_fields, one, page


def assert_csp_clean(response):
    """The parsed page, once it has no inline script, no <style> and no style attribute."""
    soup = page(response)
    inline = [str(script)[:120] for script in soup.select("script:not([src])")]
    styled = [str(tag)[:120] for tag in soup.select("style, [style]")]
    assert (inline, styled) == ([], [])
    return soup


@pytest.mark.parametrize("path", ["/login", "/login?ended=1", "/reset", "/reset?code=made-up"])
def test_the_pages_anyone_may_open(anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 200
    assert_csp_clean(response)


def test_the_reset_form_and_the_password_page(app):
    name = unique("jon")
    with session_scope() as session:
        user = service.create_user(
            session, Actor("test"), name, "temporary harbor pass 19", ["reviewer"], must_change_password=True
        )
        _, code = service.issue_password_reset(session, Actor("test"), user)
    with browser_at(app) as browser:
        reset = assert_csp_clean(browser.get(f"/reset?code={code}"))
        form = form_fields(one(reset, 'form[method="post"][action="/reset"]'))
        assert form["code"] == code and form["csrf_token"]
        assert form_sign_in(browser, name, "temporary harbor pass 19").headers["location"] == "/account/password"
        password_page = assert_csp_clean(browser.get("/account/password"))
        assert one(password_page, 'script[src="/static/password.js"]')
        assert browser.get("/static/password.js").status_code == 200


def test_the_admin_page(app_client):
    make_user(unique("kai"), ["officer"])
    admin = assert_csp_clean(app_client.get("/admin"))
    assert one(admin, 'link[rel="stylesheet"][href="/static/admin.css"]')
    assert app_client.get("/static/admin.css").status_code == 200
    assert admin.select('form input[name="expires_in_days"]'), "tokens may be given an expiry"
    assert one(admin, "form#reset-password")
    assert_csp_clean(app_client.get("/admin/fragments/tokens"))
