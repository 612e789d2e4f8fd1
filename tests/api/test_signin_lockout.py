"""The account lock (CJIS 5.5.3): five failures in 15 minutes lock new password sign-ins for ten
minutes, unless an admin unlocks sooner. A lock never ends open sessions or tokens, and a stranger
cannot tell an unknown, a real and a locked account apart."""

from datetime import UTC, datetime, timedelta

from api.users.service import LOCK_DURATION, WRONG
from tests.accounts import PASSWORD, bearer, make_user
from tests.api.signin_kit import (
    api_sign_in,
    audit_events,
    browser_at,
    end_lock,
    fail_paced,
    get_user,
    move_back,
    new_address,
    paced_sign_in,
    unique,
)


def lock(app, username: str) -> str:
    """Five wrong passwords from one stranger's address (paced past the throttle); the address."""
    address = new_address()
    with browser_at(app, address) as stranger:
        for _ in range(5):
            assert fail_paced(stranger, username, address).status_code == 401
    return address


def test_five_failures_lock_the_account_for_ten_minutes(app):
    name = unique("frank")
    make_user(name, ["officer"])
    before = datetime.now(UTC)
    lock(app, name)
    user = get_user(name)
    assert user.locked and before + LOCK_DURATION <= user.locked_until <= datetime.now(UTC) + LOCK_DURATION
    assert audit_events("user.lock", object_id=str(user.id)), "the lock is audited"

    address = new_address()
    with browser_at(app, address) as owner:
        refused = paced_sign_in(owner, name, address)  # even the right password, while the lock lasts
        assert refused.status_code == 401 and refused.json()["detail"] == WRONG
        end_lock(name)
        assert paced_sign_in(owner, name, address).status_code == 200, "the lock lapses by itself"
    assert get_user(name).locked_at is None


def test_an_admin_unlock_ends_the_lock_early(app, app_client):
    name = unique("gwen")
    user_id, _ = make_user(name, ["officer"])
    lock(app, name)
    listed = next(u for u in app_client.get("/api/v1/users").json() if u["id"] == user_id)
    assert listed["locked"] is True and listed["locked_until"]
    assert app_client.post(f"/api/v1/users/{user_id}/unlock").json()["locked"] is False
    with browser_at(app) as owner:
        assert api_sign_in(owner, name).status_code == 200


def test_a_lock_leaves_open_sessions_and_tokens_working(app):
    name = unique("hank")
    _, api_token = make_user(name, ["reviewer"])
    with browser_at(app) as owner:
        session_token = api_sign_in(owner, name).json()["token"]
        lock(app, name)
        assert get_user(name).locked
        assert owner.get("/api/v1/auth/me").json()["name"] == name, "the browser session goes on"
        assert owner.get("/api/v1/auth/me", headers=bearer(session_token)).status_code == 200
        assert owner.get("/api/v1/auth/me", headers=bearer(api_token)).status_code == 200


def guesses(app, username: str, count: int) -> list[tuple]:
    """(status, detail, Retry-After) of `count` guesses, each throttled one waited out."""
    address, answers = new_address(), []
    with browser_at(app, address) as stranger:
        while len([a for a in answers if a[0] != 429]) < count:
            response = api_sign_in(stranger, username, "guess number one")
            answers.append((response.status_code, response.json()["detail"], response.headers.get("retry-after")))
            if response.status_code == 429:
                move_back(int(response.headers["retry-after"]), username=username, source=address)
    return answers


def test_strangers_get_one_answer_for_unknown_real_and_locked_accounts(app):
    """The same guesses at a made-up name and at a real account (which locks after the fifth) get
    the same statuses, messages and waits, up to and past the lock."""
    real = unique("ivy")
    make_user(real, ["officer"])
    unknown, known = guesses(app, unique("nobody"), 7), guesses(app, real, 7)
    assert get_user(real).locked
    assert unknown == known
    assert [status for status, _, _ in known].count(429) >= 3, "throttled on the way"
    assert all(detail == WRONG for status, detail, _ in known if status == 401)


def test_a_locked_account_answers_like_a_wrong_password_even_to_the_right_one(app):
    name = unique("jade")
    make_user(name, ["officer"])
    lock(app, name)
    address = new_address()
    with browser_at(app, address) as owner, browser_at(app) as other:
        right = paced_sign_in(owner, name, address)
        unknown = api_sign_in(other, unique("ghost"), PASSWORD)
        assert (right.status_code, right.json()) == (unknown.status_code, unknown.json()) == (401, {"detail": WRONG})


def test_a_success_resets_the_failure_count(app):
    name = unique("gail")
    make_user(name, ["officer"])
    address = new_address()
    with browser_at(app, address) as browser:
        for _ in range(2):
            for _ in range(4):
                assert fail_paced(browser, name, address).status_code == 401
            assert paced_sign_in(browser, name, address).status_code == 200
    assert not get_user(name).locked


def test_failures_after_a_lapsed_lock_count_afresh(app):
    name = unique("kurt")
    make_user(name, ["officer"])
    address = lock(app, name)
    end_lock(name)
    with browser_at(app, address) as stranger:
        assert fail_paced(stranger, name, address).status_code == 401
    assert not get_user(name).locked, "one mistake after the lock is not a sixth failure"


def test_every_failure_is_audited_with_its_source_address(app):
    name = unique("lena")
    user_id, _ = make_user(name, ["officer"])
    address = new_address()
    with browser_at(app, address) as stranger:
        api_sign_in(stranger, name, "wrong wrong wrong")
        api_sign_in(stranger, unique("ghost"), "wrong wrong wrong")
    failures = audit_events("auth.login", outcome="failure", source=address)
    assert [e.details["reason"] for e in failures] == ["wrong password", "unknown username"]
    assert failures[0].object_id == str(user_id) and failures[0].actor == name


def test_disabled_accounts_are_told_so_only_after_the_right_password(app, app_client):
    name = unique("mona")
    user_id, _ = make_user(name, ["officer"])
    app_client.patch(f"/api/v1/users/{user_id}", json={"active": False})
    with browser_at(app) as browser:
        wrong = api_sign_in(browser, name, "wrong wrong wrong")
        assert (wrong.status_code, wrong.json()["detail"]) == (401, WRONG)
        right = api_sign_in(browser, name)
        assert right.status_code == 403 and "disabled" in right.json()["detail"]


def test_a_lock_shows_on_the_admin_page_only_while_it_lasts(app, app_client):
    name = unique("nina")
    make_user(name, ["officer"])
    lock(app, name)
    assert 'data-action="unlock"' in _row(app_client.get("/admin/fragments/users", params={"q": name}).text, name)
    end_lock(name)
    assert 'data-action="unlock"' not in _row(app_client.get("/admin/fragments/users", params={"q": name}).text, name)


def _row(html: str, username: str) -> str:
    start = html.index(f'data-username="{username}"')
    return html[start : html.index("</tr>", start)]


def test_the_lock_window_is_fifteen_minutes(app):
    """Failures older than 15 minutes are forgotten: four old ones and one new do not lock."""
    name = unique("olga")
    make_user(name, ["officer"])
    address = new_address()
    with browser_at(app, address) as stranger:
        for _ in range(4):
            fail_paced(stranger, name, address)
        move_back(timedelta(minutes=16).total_seconds(), username=name, source=address)
        assert fail_paced(stranger, name, address).status_code == 401
    assert not get_user(name).locked
