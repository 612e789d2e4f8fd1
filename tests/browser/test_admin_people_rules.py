"""In a real browser, under the real Content-Security-Policy, as an admin: an account whose badge is
not in the officer directory says so, and the admin links it to the person it is; the recognition
rules page shows the rules in force, shows a bad edit's problem at the cue it concerns (nothing is
saved), and saves a good edit, which is then in force and in the audit log."""

import copy
import re
import uuid

from playwright.sync_api import expect

from tests.accounts import PASSWORD
from tests.browser.conftest import assert_accessible


def test_an_admin_links_an_account_to_the_officer_it_is(sign_in, live, screenshot):
    tag = uuid.uuid4().hex[:6]
    badge, typo, username = f"8{tag}", f"8-{tag}", f"newhire-{tag}"
    imported = live.post(
        "/api/v1/officers/import",
        content=f"badge_number,name,division\n{badge},Chris Lane,Eastside\n",
        headers={"Content-Type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    made = live.post(
        "/api/v1/users", json={"username": username, "password": PASSWORD, "roles": ["officer"], "badge_number": typo}
    )
    assert made.status_code == 201 and made.json()["officer"] is None, made.text

    admin = sign_in("tester")
    admin.goto(f"/admin?q={username}")
    row = admin.locator(f'#admin-users tr[data-username="{username}"]')
    expect(row.locator("td.person .not-linked")).to_have_text(
        f"Badge {typo} is not in the officer directory: linked to nobody"
    )
    row.locator("summary", has_text="Link to a person").click()
    row.get_by_label(f"{username}: badge in the officer directory").fill(badge)
    row.get_by_role("button", name="Link").click()
    expect(admin.locator("#admin-message")).to_have_text(f"{username} is Chris Lane ({badge}), Eastside.")
    row = admin.locator(f'#admin-users tr[data-username="{username}"]')  # the section was re-rendered
    expect(row.locator("td.person .person-name")).to_have_text("Chris Lane")
    expect(row.locator("td.person")).to_contain_text("sworn · Eastside")
    screenshot(admin, "admin account linked to an officer")
    assert_accessible(admin, "admin page")

    account = [u for u in live.get("/api/v1/users", params={"q": username}).json() if u["username"] == username][0]
    assert account["badge_number"] == badge and account["officer"]["name"] == "Chris Lane"

    # A badge nobody in the directory has is refused, and said so.
    row.locator("summary", has_text="Change").click()
    row.get_by_label(f"{username}: badge in the officer directory").fill("99999")
    row.get_by_role("button", name="Link").click()
    expect(admin.locator("#admin-message")).to_contain_text("no one in the officer directory has badge 99999")
    assert "bad" in admin.locator("#admin-message").get_attribute("class")


def test_an_admin_edits_a_rule_sees_the_problem_at_it_and_saves_a_good_edit(sign_in, live, screenshot):
    before = live.get("/api/v1/recognition/rules").json()
    admin = sign_in("tester")
    admin.goto("/admin")
    admin.get_by_role("link", name="Recognition rules").click()
    admin.wait_for_url(re.compile(r"/admin/rules$"))
    expect(admin.locator("#rules-in-force")).to_contain_text(f"version {before['version']}")
    expect(admin.locator("#cues [data-cue]")).to_have_count(len(before["rules"]["cues"]))

    second = admin.locator("#cues [data-cue]").nth(1)
    second.locator("summary").click()
    second.get_by_label("Weight").fill("9")
    admin.get_by_role("button", name="Check and save").click()
    problem = second.locator(".problem")
    expect(problem).to_have_text("'weight' must be a non-zero number between -5 and 5, got 9")
    expect(second.get_by_label("Weight")).to_have_attribute("aria-invalid", "true")
    expect(second.locator(".cue-flag")).to_be_visible()
    expect(admin.locator("#rules-message")).to_contain_text("1 problem: nothing was saved")
    expect(admin.locator("#cues [data-cue] .problem:visible")).to_have_count(1)  # at that cue only
    screenshot(admin, "rules page problem at the cue")
    assert live.get("/api/v1/recognition/rules").json()["digest"] == before["digest"]

    second.get_by_label("Weight").fill("0.3")
    admin.get_by_role("button", name="Check and save").click()
    expect(admin.locator("#rules-message")).to_have_text(
        f"Saved: version {before['version'] + 1} is in force. Clips are re-scored in the background."
    )
    expect(problem).to_be_hidden()
    after = live.get("/api/v1/recognition/rules").json()
    assert after["version"] == before["version"] + 1
    expected = copy.deepcopy(before["rules"]["cues"][1])
    expected["weight"] = 0.3
    assert after["rules"]["cues"][1] == expected
    assert after["rules"]["cues"][0] == before["rules"]["cues"][0] and len(after["rules"]["cues"]) == len(
        before["rules"]["cues"]
    )
    audit = live.get("/api/v1/audit", params={"action": "rules.replace"}).json()
    assert any(event["details"]["digest"] == after["digest"] and event["actor"] == "tester" for event in audit)
    screenshot(admin, "rules page saved")
    assert_accessible(admin, "rules page")
