"""A colleague's nomination in a real browser against the real service: an officer signs in, opens
the nomination form from the awards page, finds a civilian colleague in the directory by name,
says what happened and when, and sends it; a committee member sees it pending, from a colleague,
naming the civilian with their unit. A civilian employee opens the same form."""

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

from tests.browser.conftest import PEOPLE, assert_accessible  # noqa: E402
from tests.services import backend_env, provision_token, serve_process  # noqa: E402

NARRATIVE = "Robin stayed past midnight to find a missing child's records and got the family home."
CIVILIAN = ("e-77", "Robin Vale", "Records")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The real service with its worker, one account per role, and a civilian employee's account."""
    data = tmp_path_factory.mktemp("peer-nomination")
    env = backend_env("sqlite", data)
    with serve_process(env, data / "serve.log") as (_, admin):
        for role, badge in PEOPLE.items():
            provision_token(env, role, roles=(role,), badge=badge)
        provision_token(env, "clerk", roles=("officer",), badge=CIVILIAN[0])
        imported = admin.post(
            "/api/v1/officers/import",
            content="badge_number,name,division,kind,unit\n"
            "4711,Dana Reyes,Metro,sworn,\n"
            f"{CIVILIAN[0]},{CIVILIAN[1]},,civilian,{CIVILIAN[2]}\n"
            "r-9,Robert Vance,Harbor,sworn,\n",
            headers={"Content-Type": "text/csv"},
        )
        assert imported.json()["imported"] == 3, imported.text
        yield admin


def test_an_officer_nominates_a_civilian_colleague_and_the_committee_sees_it(sign_in, screenshot):
    officer = sign_in("officer")
    officer.goto("/awards")
    officer.click("a.nominate-link")
    officer.wait_for_url("**/nominate")
    expect(officer.locator("h1")).to_contain_text("Nominate a colleague")

    officer.fill("#nominee-search", "rob")  # two people match: Robin Vale and Robert Vance
    results = officer.locator("#nominee-results button.nominee")
    expect(results).to_have_count(2)
    choice = officer.locator(f"#nominee-results button.nominee[data-badge='{CIVILIAN[0]}']")
    expect(choice).to_have_text(f"{CIVILIAN[1]} ({CIVILIAN[0]}) · {CIVILIAN[2]}, civilian")
    choice.click()
    expect(officer.locator("#nominee-chosen")).to_have_text(
        f"Nominating {CIVILIAN[1]} ({CIVILIAN[0]}) · {CIVILIAN[2]}, civilian"
    )
    officer.fill("#narrative", NARRATIVE)
    officer.fill("#occurred_on", "2026-03-14")
    assert_accessible(officer, "nomination form")
    screenshot(officer, "colleague nomination form")
    officer.click("#nominate-send")
    expect(officer.locator("#nominate-message")).to_contain_text("Sent to the awards committee: nomination")
    expect(officer.locator("#nominate-message")).to_contain_text(CIVILIAN[1])
    expect(officer.locator("#nominee")).to_have_value("")  # the form is cleared for the next one

    committee = sign_in("committee")
    committee.goto("/nominations")
    card = committee.locator("section[aria-labelledby='pending-heading'] article.nomination", has_text=NARRATIVE)
    expect(card).to_have_count(1)
    expect(card.locator(".pill").first).to_have_text("pending")
    expect(card.locator(".pill.source")).to_have_text("from a colleague")
    expect(card.locator(".nominees")).to_contain_text(f"{CIVILIAN[1]} ({CIVILIAN[0]}) · {CIVILIAN[2]}, civilian")
    expect(card.locator(".occurred time")).to_have_attribute("datetime", "2026-03-14")
    expect(card.locator("form.decide-form")).to_be_visible()  # on to the committee's votes
    screenshot(committee, "committee sees a colleague nomination")


def test_a_civilian_employee_opens_the_form_and_may_not_nominate_themselves(sign_in):
    clerk = sign_in("clerk")
    clerk.goto("/nominate")
    clerk.fill("#nominee-search", "robin vale")
    expect(clerk.locator("#nominee-results")).to_contain_text("Nobody in the directory matches")  # not themselves
    clerk.fill("#nominee-search", "dana")
    clerk.locator("#nominee-results button.nominee[data-badge='4711']").click()
    clerk.fill("#narrative", "Dana covered the front desk through the storm.")
    clerk.fill("#clip_id", "999999")  # not a clip they may see
    clerk.click("#nominate-send")
    expect(clerk.locator("#nominate-message")).to_have_text("no clip 999999 among the clips you may see")
    clerk.fill("#clip_id", "")
    clerk.click("#nominate-send")
    expect(clerk.locator("#nominate-message")).to_contain_text("nomination")
    expect(clerk.locator("#nominate-message")).to_contain_text("Dana Reyes (4711) · Metro")
