"""The sign-in, password, reset and admin pages obey a Content-Security-Policy of
script-src 'self'; style-src 'self': no inline script, no <style>, no style attributes."""

import pytest

from api.audit.service import Actor
from api.db import session_scope
from api.users import service
from tests.accounts import make_user
from tests.api.signin_kit import Forms, browser_at, form_sign_in, unique


def assert_csp_clean(html: str) -> Forms:
    page = Forms(html)
    assert (page.inline_scripts, page.style_elements, page.style_attributes) == (0, 0, [])
    return page


@pytest.mark.parametrize("path", ["/login", "/login?ended=1", "/reset", "/reset?code=made-up"])
def test_the_pages_anyone_may_open(anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 200
    assert_csp_clean(response.text)


def test_the_reset_form_and_the_password_page(app):
    name = unique("jon")
    with session_scope() as session:
        user = service.create_user(
            session, Actor("test"), name, "temporary harbor pass 19", ["reviewer"], must_change_password=True
        )
        _, code = service.issue_password_reset(session, Actor("test"), user)
    with browser_at(app) as browser:
        form = assert_csp_clean(browser.get(f"/reset?code={code}").text).form("/reset")
        assert form["code"] == code and form["csrf_token"]
        assert form_sign_in(browser, name, "temporary harbor pass 19").headers["location"] == "/account/password"
        page = browser.get("/account/password").text
        assert_csp_clean(page)
        assert 'src="/static/password.js"' in page
        assert browser.get("/static/password.js").status_code == 200


def test_the_admin_page(app_client):
    make_user(unique("kai"), ["officer"])
    page = app_client.get("/admin")
    forms = assert_csp_clean(page.text)
    assert 'href="/static/admin.css"' in page.text and app_client.get("/static/admin.css").status_code == 200
    assert any(f["fields"].keys() >= {"expires_in_days"} for f in forms.forms), "tokens may be given an expiry"
    assert 'id="reset-password"' in page.text
    assert_csp_clean(app_client.get("/admin/fragments/tokens").text)
