"""An Act of Excellence from nomination to certificate, in a real browser against the real service.

A reviewer nominates the officer from the clip page, with a moment; one committee member votes
and nothing is decided (the quorum is two); a second member's vote settles it; the award page
shows the narrative, the moment (which plays the clip from there), the decision and each vote; the
certificate prints on one landscape page with nothing of the site around it; the awards record
downloads as CSV; the officer finds the award on their pages and opens it and its certificate.

Screenshots go to test-output/screenshots/awards/ (a folder of their own: the shared screenshot
fixture clears the numbered ones of other runs)."""

import csv
import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.conftest import PEOPLE, SCREENSHOTS, assert_accessible  # noqa: E402
from tests.services import backend_env, provision_token, serve_process, upload, wait_settled  # noqa: E402

SILENT = Path(__file__).resolve().parents[1] / "fixtures" / "silent.mkv"
NARRATIVE = "Officer Reyes pulled a driver clear of a smoking car and kept him talking until the medics came."
MOMENT = ("0:01.5", "reaches the driver")
SHOTS = SCREENSHOTS / "awards"
PIPELINE_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The real service with its worker, one account per role, and a second committee member."""
    data = tmp_path_factory.mktemp("awards-walk")
    env = backend_env("sqlite", data)
    with serve_process(env, data / "serve.log") as (_, admin):
        for role, badge in {**PEOPLE, "committee2": "c-2"}.items():
            provision_token(env, role, roles=("committee",) if role == "committee2" else (role,), badge=badge)
        admin.post(
            "/api/v1/officers/import",
            content="badge_number,name,division\n4711,Dana Reyes,Metro\n",
            headers={"Content-Type": "text/csv"},
        )
        yield admin


@pytest.fixture(scope="module")
def shoot():
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    taken = []

    def take(page: Page, name: str) -> None:
        taken.append(name)
        page.screenshot(path=str(SHOTS / f"{len(taken):02d}-{re.sub(r'[^a-z0-9]+', '-', name)}.png"), full_page=True)

    return take


@pytest.fixture(scope="module")
def clip_id(live):
    """A ready clip of officer 4711's, tagged life-saving (uploaded through the API: the upload
    page has its own walk)."""
    made = upload(live, SILENT, badge_number="4711", categories="life-saving", division="Metro")
    assert made.status_code == 201, made.text
    settled = wait_settled(live, made.json()["id"], timeout=PIPELINE_TIMEOUT_S)
    assert settled["status"] == "ready", settled
    return settled["id"]


def vote_to_approve(page: Page, nomination_id: int) -> None:
    card = page.locator(f"#nomination-{nomination_id}")
    page.once("dialog", lambda dialog: dialog.accept())  # "Vote to approve nomination N? This cannot be undone."
    card.locator("button:text-is('Vote to approve')").click()


def test_nominate_vote_award_certificate_and_the_officer_sees_it(sign_in, shoot, live, clip_id):
    # The reviewer nominates the officer from the clip page, with one moment.
    reviewer = sign_in("reviewer")
    reviewer.goto(f"/clips/{clip_id}")
    decision = reviewer.locator("#decision")
    boxes = decision.locator("input[name=rubric]")
    for i in range(boxes.count()):
        boxes.nth(i).check()
    decision.locator("button:text-is('Nominate')").click()
    section = reviewer.locator("#nomination-section")
    expect(section).to_be_visible()
    expect(section.locator("#nominate-officers")).to_have_value("4711")
    section.locator("#nominate-moments").fill(f"{MOMENT[0]} {MOMENT[1]}")
    section.locator("#nominate-narrative").fill(NARRATIVE)
    section.locator("button:text-is('Send nomination')").click()
    reviewer.wait_for_url("**/queue**")

    # The first committee member votes: one vote of the two the quorum needs, nothing decided.
    first = sign_in("committee")
    assert urlsplit(first.url).path == "/nominations"
    expect(first.locator("p.rules")).to_contain_text("decided when 2 votes are cast")
    card = first.locator("article.nomination.pending").filter(has=first.locator(f"a:text-is('Clip {clip_id}')"))
    expect(card).to_have_count(1)
    nomination_id = int(card.get_attribute("data-nomination"))
    card = first.locator(f"#nomination-{nomination_id}")
    expect(card.locator(".pill.category")).to_have_text("Life-saving")
    expect(card.locator(".tally")).to_contain_text("2 more votes to reach the quorum of 2")
    card.locator("input[name=award_name]").fill("Medal of Valor")
    vote_to_approve(first, nomination_id)
    expect(card.locator("[role=status]")).to_have_text(
        "Your vote to approve is recorded; 1 more vote to reach the quorum."
    )
    first.reload()
    expect(card.locator(".pill").first).to_have_text("pending")
    expect(card.locator(".own-vote")).to_contain_text("You voted to approve")
    expect(card.locator(".vote-list li")).to_have_count(1)
    expect(card.locator("form.decide-form")).to_have_count(0)
    assert live.get("/api/v1/awards").json() == [], "one vote must not make an award"
    shoot(first, "nominations after the first vote")

    # The second member's vote reaches the quorum: approved, and the award is recorded.
    second = sign_in("committee2")
    card = second.locator(f"#nomination-{nomination_id}")
    expect(card.locator(".tally")).to_contain_text("Votes: 1 for, 0 against")
    vote_to_approve(second, nomination_id)
    settled = card.locator("[role=status].good")
    expect(settled).to_contain_text("Your vote settled it: approved. Medal of Valor recorded for 4711.")
    award_link = settled.locator("a")
    expect(award_link).to_have_count(1)
    award_id = int(award_link.get_attribute("href").rsplit("/", 1)[1])
    second.reload()
    decided = second.locator(f"section[aria-labelledby=decided-heading] #nomination-{nomination_id}")
    expect(decided.locator("p.decision")).to_contain_text("Approved by committee, committee2")
    expect(decided.locator(".tally")).to_contain_text("2 for, 0 against")
    shoot(second, "nominations decided")

    # The award page: narrative, the moment, the decision and each vote.
    decided.locator(f"a[href='/awards/{award_id}']").click()
    second.wait_for_url(f"**/awards/{award_id}")
    expect(second.locator("h1")).to_contain_text("Medal of Valor: Dana Reyes")
    expect(second.locator(".narrative")).to_have_text(NARRATIVE)
    expect(second.locator(".facts")).to_contain_text("Life-saving")
    expect(second.locator(".facts")).to_contain_text("Metro")
    expect(second.locator("p.decision")).to_contain_text("2 for and 0 against")
    votes = second.locator("table.votes-table tbody tr")
    expect(votes).to_have_count(2)
    expect(votes.nth(0)).to_contain_text("committee")
    expect(votes.nth(1)).to_contain_text("committee2")
    expect(votes.nth(1)).to_contain_text("Medal of Valor")  # the form offered the first approval's name
    assert_accessible(second, "award page")
    shoot(second, "award page")

    # The moment plays: its link opens the clip page at that time.
    moment = second.locator("ol.moments a.moment")
    expect(moment).to_have_text("▶ 0:01")
    expect(second.locator("ol.moments li")).to_contain_text(MOMENT[1])
    moment.click()
    second.wait_for_url(f"**/clips/{clip_id}?t=1.5")
    second.wait_for_function("() => document.querySelector('video')?.readyState >= 1")
    second.wait_for_function("() => Math.abs(document.querySelector('video').currentTime - 1.5) < 0.3")
    second.go_back()

    # The certificate: on screen with a way back and a Print button; printed, the certificate alone.
    second.locator("a.certificate-link").click()
    second.wait_for_url(f"**/awards/{award_id}/certificate")
    sheet = second.locator("section.certificate")
    expect(sheet.locator(".recipient")).to_have_text("Dana Reyes")
    expect(sheet.locator(".award-name")).to_have_text("Medal of Valor")
    expect(sheet.locator(".badge-line")).to_have_text("Badge 4711 · Metro Division")
    expect(second.locator("#print-certificate")).to_be_visible()
    assert_accessible(second, "certificate")
    shoot(second, "certificate on screen")
    second.emulate_media(media="print")
    expect(second.locator("header.top")).to_be_hidden()
    expect(second.locator("#print-certificate")).to_be_hidden()
    expect(sheet).to_be_visible()
    shoot(second, "certificate printed")
    pdf = second.pdf(prefer_css_page_size=True, print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, f"the certificate printed on {pages} pages"
    second.emulate_media(media="screen")

    # The awards record, and its CSV.
    second.goto("/awards")
    row = second.locator(f"tbody tr[data-award='{award_id}']")
    expect(row).to_contain_text("Dana Reyes")
    expect(row).to_contain_text("Life-saving")
    second.select_option("#category", "life-saving")
    second.locator("form.filters button[type=submit]").click()
    second.wait_for_url("**/awards?*category=life-saving*")
    with second.expect_download() as download:
        second.locator("a.csv").click()
    exported = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [(r["award_id"], r["officer_name"], r["category"], r["votes_for"]) for r in exported] == [
        (str(award_id), "Dana Reyes", "life-saving", "2")
    ]
    shoot(second, "awards record")

    # The officer sees the award on My footage and the awards record, and opens it and its certificate.
    officer = sign_in("officer")
    mine = officer.locator("section[aria-labelledby=my-awards]")
    expect(mine.locator("tbody tr")).to_have_count(1)
    expect(mine).to_contain_text("Medal of Valor")
    officer.click("header.top nav a:text-is('Awards')")
    officer.locator(f"tbody tr[data-award='{award_id}'] a").click()
    officer.wait_for_url(f"**/awards/{award_id}")
    expect(officer.locator("h1")).to_contain_text("Medal of Valor: Dana Reyes")
    expect(officer.locator("p.decision")).to_contain_text("2 for and 0 against")
    expect(officer.locator("table.votes-table")).to_have_count(0)  # the tally, not who voted how
    expect(officer.locator("ol.moments a.moment")).to_have_attribute("href", f"/clips/{clip_id}?t=1.5")
    shoot(officer, "award page as the officer")
    officer.locator("a.certificate-link").click()
    expect(officer.locator("section.certificate .recipient")).to_have_text("Dana Reyes")
