"""The whole program, walked in a real browser by the people who use it.

An officer uploads and tags a clip; a reviewer opens it from the queue, seeks by clicking the
transcript, marks the rubric, nominates the officer and selects the clip for training; the
committee approves the award and the officer sees it; a trainer builds a lesson from the clip and
exports it; an administrator looks at the dashboard, the admin page and the audit log.

One test per act, in order, sharing what earlier acts made through the module's `story`; an act
whose predecessor failed is skipped rather than failing for a reason that is not its own. Each page
visited is saved under test-output/screenshots for a reviewer of the change to look at.
"""

import io
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.conftest import assert_accessible  # noqa: E402

SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "speech.mp4"
EVIDENCE_ID = "EV-2026-WALK-1"
PIPELINE_TIMEOUT_MS = 240_000  # probe, thumbnails, proxy, Whisper, recognition on a busy 2-core machine
EXPORT_TIMEOUT_MS = 180_000
PAGE_WEIGHT_BUDGET = 300 * 1024  # the JS and CSS one page ships, inline included
MARKER = ("0:04", "asks whether everyone is okay")
NARRATIVE = "Officer Reyes calmed a frightened driver, checked everyone was unhurt and offered a medic."
COURSE, LESSON = "Calm at the roadside", "Traffic stops that stay calm"


@pytest.fixture(scope="module")
def story():
    """What the acts hand on to each other: ids of the clip, nomination, lesson."""
    return {}


def needs(story: dict, *keys: str) -> None:
    missing = [key for key in keys if key not in story]
    if missing:
        pytest.skip(f"an earlier act did not get as far as {', '.join(missing)}")


def go(page: Page, label: str) -> None:
    """Follow a link of the top navigation, as people do."""
    page.click(f"header.top nav a:text-is('{label}')")
    page.wait_for_load_state("networkidle")


class Weigh:
    """The JS and CSS a page ships: /static/*.js and *.css responses (the browser cache off, so
    every one is fetched) plus inline <script> and <style>, in bytes."""

    def __init__(self, page: Page):
        self.page, self.responses = page, []
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})

    def __enter__(self):
        self.page.on("response", self._collect)
        return self

    def _collect(self, response) -> None:
        self.responses.append(response)

    def __exit__(self, failure, *_):
        if not failure:  # (when the page did not load, that is the error to see)
            self.page.wait_for_load_state("networkidle")
        self.page.remove_listener("response", self._collect)
        if failure:
            return False
        files = {}
        for response in self.responses:
            path = urlsplit(response.url).path
            if path.startswith("/static/") and path.endswith((".js", ".css")):
                assert response.status == 200, f"{path}: {response.status} (the cache is off: every file is sent)"
                files[path] = len(response.body())
        inline = self.page.evaluate("""() => [...document.querySelectorAll('script:not([src]), style')]
            .reduce((total, el) => total + new TextEncoder().encode(el.textContent).length, 0)""")
        self.files, self.inline, self.total = files, inline, sum(files.values()) + inline
        return False


def video_ready(page: Page) -> None:
    page.wait_for_function("document.querySelector('video') && document.querySelector('video').readyState >= 1")


def click_word_and_read_time(page: Page, index: int) -> tuple[float, float]:
    """Click the transcript's index-th word; (its data-start, the video's currentTime after)."""
    word = page.locator("#transcript .word").nth(index)
    start = float(word.get_attribute("data-start"))
    word.click()
    return start, page.evaluate("document.querySelector('video').currentTime")


def word_starting_after(page: Page, seconds: float) -> int:
    starts = page.eval_on_selector_all("#transcript .word", "words => words.map(w => Number(w.dataset.start))")
    assert starts, "the transcript has no words"
    return next((i for i, start in enumerate(starts) if start >= seconds), len(starts) - 1)


# --- act 1: the officer uploads a clip and tags a moment --------------------------------------


def test_officer_uploads_and_tags_a_clip(sign_in, screenshot, story):
    page = sign_in("officer", at_form=lambda form: screenshot(form, "sign-in"))
    assert urlsplit(page.url).path == "/my", "an officer starts on My footage"

    go(page, "Upload")
    page.set_input_files("#file-input", str(SPEECH))
    expect(page.locator("#file-list li")).to_have_count(1)
    page.get_by_label(f"Evidence ID for {SPEECH.name}").fill(EVIDENCE_ID)
    page.check("input[name=categories][value=de-escalation]")
    page.fill("#recorded_at", "2026-11-20T21:14")
    page.fill("#incident_number", "2026-004217")
    page.fill("#division", "Metro")
    page.fill("#note", "Tail-light stop; the driver was frightened.")
    page.click("#upload-button")
    state = page.locator("#file-list .state")
    page.wait_for_function(
        """() => /is ready|was rejected|could not be processed|Refused/
                 .test(document.querySelector('#file-list .state')?.textContent ?? '')""",
        timeout=PIPELINE_TIMEOUT_MS,
    )
    text = state.inner_text()
    found = re.search(r"Clip (\d+) is ready", text)
    assert found, f"the upload did not end ready: {text}"
    clip_id = int(found.group(1))
    screenshot(page, "upload")

    go(page, "My footage")
    card = page.locator(f"#clip-{clip_id}")
    expect(card.locator(".pill.ready")).to_have_text("ready")
    expect(card).to_contain_text(EVIDENCE_ID)
    # The officer finds the moment in the player and tags it from there.
    card.locator(f"h2 a[href='/clips/{clip_id}']").click()
    page.wait_for_function("() => document.querySelector('#video').readyState >= 1")
    page.evaluate("() => { document.querySelector('#video').currentTime = 4; }")
    page.wait_for_function("() => Math.abs(document.querySelector('#video').currentTime - 4) < 0.05")
    page.click("[data-action=tag-moment]")
    page.wait_for_url(re.compile(rf"/my\?clip={clip_id}&at=4\.0$"))
    card = page.locator(f"#clip-{clip_id}")
    form = card.locator("form.tag-form")
    expect(form).to_be_visible()
    expect(form.locator(f"#at-{clip_id}")).to_have_value("4.0")
    form.locator("input[name=categories][value=community-engagement]").check()
    form.locator(f"#marker-{clip_id}").fill(MARKER[1])
    form.locator(f"#note-{clip_id}").fill("Checked on the passengers before anything else.")
    form.locator("button:text-is('Add tag')").click()
    expect(form.locator(".form-message")).to_have_text("Tag added.")

    page.reload()
    tags = page.locator(f"#clip-{clip_id} [data-tags]")
    expect(tags).to_contain_text("community-engagement")
    expect(tags.locator(f"a:text-is('{MARKER[0]}')")).to_have_attribute("href", f"/clips/{clip_id}?t=4.0")
    expect(page.locator(f"#clip-{clip_id}")).to_contain_text("Waiting for review")
    screenshot(page, "my footage")
    story["clip_id"] = clip_id


# --- act 2: the reviewer reviews it, nominates the officer, selects it for training ------------


def test_reviewer_seeks_by_transcript_nominates_and_selects_for_training(sign_in, screenshot, story):
    needs(story, "clip_id")
    clip_id = story["clip_id"]
    page = sign_in("reviewer")
    assert urlsplit(page.url).path == "/queue", "a reviewer starts on the queue"

    with Weigh(page) as queue_weight:
        page.goto("/queue")
    row = page.locator(f"#queue-rows tr[data-clip='{clip_id}']")
    expect(row).to_have_attribute("data-state", "queued")
    expect(row).to_contain_text("Dana Reyes")
    screenshot(page, "queue")
    assert_accessible(page, "queue")

    with Weigh(page) as clip_weight:
        row.locator(f"a:text-is('Clip {clip_id}')").click()
        page.wait_for_url(f"**/clips/{clip_id}")
    for name, weight in (("queue", queue_weight), ("clip", clip_weight)):
        assert weight.files, f"the {name} page loaded no /static JS or CSS: the measure is broken"
        assert weight.total < PAGE_WEIGHT_BUDGET, (
            f"the {name} page ships {weight.total} bytes of JS and CSS ({weight.files}, inline {weight.inline}); "
            f"the budget is {PAGE_WEIGHT_BUDGET}"
        )
        print(f"{name} page: {weight.total:,} bytes of JS and CSS ({weight.inline:,} inline; {weight.files})")
    expect(page.locator(".clip-facts .pill.state")).to_have_text("Queued")  # opening a clip claims nothing
    expect(page.locator(".clip-facts")).to_contain_text("Dana Reyes")
    expect(page.locator("#transcript .speaker-select").first).to_have_value("officer")  # one voice: the wearer's

    # The queue's text filter finds a word of the transcript; its hit opens the clip at that word.
    page.goto("/queue")
    page.fill("#q-text", "medic")
    page.locator(".queue-filters button[type=submit]").click()
    hit = page.locator(f"#queue-rows tr[data-clip='{clip_id}'] a.hit-link")
    expect(hit).to_be_visible()
    hit.click()
    page.wait_for_url(f"**/clips/{clip_id}?t=*")
    video_ready(page)
    said_at, first_of_its_segment = page.evaluate("""() => {
      const word = [...document.querySelectorAll("#transcript .word")].find((w) => /^medic/i.test(w.textContent));
      return [Number(word.dataset.start), Number(word.closest(".segment").querySelector(".word").dataset.start)];
    }""")
    assert said_at > first_of_its_segment + 0.8, "the word must be well into its segment, or this proves nothing"
    page.wait_for_function(f"Math.abs(document.querySelector('video').currentTime - {said_at}) < 0.3")

    # A click on a transcript word plays from that word.
    video_ready(page)
    start, now = click_word_and_read_time(page, word_starting_after(page, 3.0))
    assert start >= 3.0 - 0.5, f"no word starts after 3 s (the last starts at {start})"
    assert abs(now - start) <= 0.5, f"clicked a word at {start} s; the video is at {now} s"
    expect(page.locator("#clock")).not_to_have_text("0:00.0")
    screenshot(page, "clip review")

    # From the keyboard alone: Tab reaches the transcript, arrows move word by word, Enter seeks.
    page.locator("#transcript .word").first.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    focused = page.evaluate("Number(document.activeElement.dataset.start)")
    page.keyboard.press("Enter")
    page.wait_for_function(f"Math.abs(document.querySelector('video').currentTime - {focused}) < 0.3")
    assert_accessible(page, "clip page")

    # Nominate opens the nomination form; sending it records the decision and the nomination in
    # one action. Then the clip is selected for training too (both hold).
    decision = page.locator("#decision")
    boxes = decision.locator("input[name=rubric]")
    assert boxes.count() > 0, "the rubric has no items"
    for i in range(boxes.count()):
        boxes.nth(i).check()
    decision.locator("#notes").fill("Textbook de-escalation: calm voice, explains the stop, offers help.")
    decision.locator("button:text-is('Nominate')").click()
    expect(page.locator("#decision-status")).to_contain_text("Write the nomination below")
    section = page.locator("#nomination-section")
    expect(section).to_be_visible()
    expect(section.locator("#nominate-officers")).to_have_value("4711")
    expect(section.locator("#nominate-moments")).to_have_value(re.compile(rf"^0:04\.0 {MARKER[1]}$"))
    section.locator("#nominate-narrative").fill(NARRATIVE)
    screenshot(page, "clip nomination form")
    section.locator("button:text-is('Send nomination')").click()
    page.wait_for_url("**/queue?empty=1")  # nothing else waits: back to the queue
    expect(page.locator("#queue-note")).to_contain_text("the queue is empty")
    expect(page.locator(f"#queue-rows tr[data-clip='{clip_id}']")).to_have_attribute("data-state", "nominated")

    page.goto(f"/clips/{clip_id}")
    expect(page.locator(".clip-facts .pill.state")).to_have_text("Nomination pending")
    for i in range(boxes.count()):
        expect(boxes.nth(i)).to_be_checked()  # the rubric as last decided
    page.locator("#decision button:text-is('Select for training')").click()
    page.wait_for_url("**/queue?empty=1")
    expect(page.locator(f"#queue-rows tr[data-clip='{clip_id}']")).to_have_attribute(
        "data-state", "selected_for_training"
    )
    expect(page.locator(f"#queue-rows tr[data-clip='{clip_id}'] .pill.nomination")).to_have_text("Nomination pending")

    page.goto(f"/clips/{clip_id}")
    expect(page.locator(".clip-facts .pill.state")).to_have_text("Selected for training")
    history = page.locator(".history .history-item")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("Nominated by")
    expect(history.nth(1)).to_contain_text("Selected for training by")
    expect(history.nth(1)).to_contain_text("revises the decision before")
    story["weights"] = {"queue": queue_weight.total, "clip": clip_weight.total}
    story["reviewed"] = True


# --- act 3: the committee approves the award; the officer sees it --------------------------------


def test_committee_approves_and_officer_sees_the_award(sign_in, screenshot, story):
    needs(story, "clip_id", "reviewed")
    clip_id = story["clip_id"]
    page = sign_in("committee")
    assert urlsplit(page.url).path == "/nominations", "the committee starts on the nominations"

    pending = page.locator("article.nomination.pending").filter(has=page.locator(f"a:text-is('Clip {clip_id}')"))
    expect(pending).to_have_count(1)
    story["nomination_id"] = int(pending.get_attribute("data-nomination"))
    card = page.locator(f"#nomination-{story['nomination_id']}")  # its classes change once decided
    expect(card).to_contain_text("Dana Reyes")
    expect(card.locator(".narrative")).to_have_text(NARRATIVE)
    expect(card.locator("ul.moments")).to_contain_text(MARKER[1])
    page.once("dialog", lambda dialog: dialog.accept())  # "Vote to approve nomination N? This cannot be undone."
    card.locator("button:text-is('Vote to approve')").click()
    expect(card.locator("[role=status]")).to_contain_text("1 more vote to reach the quorum")

    second = sign_in("committee2")  # the quorum is two members
    second.goto("/nominations")
    second_card = second.locator(f"#nomination-{story['nomination_id']}")
    second.once("dialog", lambda dialog: dialog.accept())
    second_card.locator("button:text-is('Vote to approve')").click()
    expect(second_card.locator("[role=status].good")).to_contain_text(
        "Your vote settled it: approved. Act of Excellence recorded for 4711."
    )
    page.reload()
    expect(page.locator("#decided-heading")).to_have_text("Decided (1)")
    expect(card.locator(".pill").first).to_have_text("approved")
    expect(card.locator("p.decision")).to_contain_text("Approved by committee")
    screenshot(page, "nominations")

    go(page, "Awards")
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody tr")).to_contain_text("Dana Reyes")
    expect(page.locator("table tbody tr")).to_contain_text("Act of Excellence")
    screenshot(page, "awards")

    officer = sign_in("officer")
    awards = officer.locator("section[aria-labelledby=my-awards]")
    expect(awards.locator("tbody tr")).to_have_count(1)
    expect(awards).to_contain_text("Act of Excellence")
    expect(officer.locator("section[aria-labelledby=my-nominations] .pill")).to_have_text("approved")
    expect(officer.locator(f"#clip-{clip_id}")).to_contain_text("Selected for training")
    screenshot(officer, "my footage with the award")
    go(officer, "Awards")
    expect(officer.locator("table tbody tr")).to_contain_text("Act of Excellence")
    screenshot(officer, "awards as the officer")


# --- act 4: the trainer builds a lesson from the clip and exports it ----------------------------


def test_trainer_builds_and_exports_a_lesson(sign_in, screenshot, story):
    needs(story, "clip_id", "reviewed")
    clip_id = story["clip_id"]
    page = sign_in("trainer")
    assert urlsplit(page.url).path == "/curriculum", "a trainer starts on the curriculum"

    page.fill("#course-title", COURSE)
    page.fill("#course-description", "Stops where the officer's calm sets the tone.")
    page.click("#new-course button:text-is('Create course')")
    course = page.locator("article.course").filter(has=page.locator(f"h2:text-is('{COURSE}')"))
    expect(course).to_have_count(1)
    course.locator("input[name=title]").fill(LESSON)
    course.locator("button:text-is('Add lesson')").click()
    page.wait_for_url(re.compile(r"/curriculum/lessons/\d+$"))
    lesson_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("h1")).to_have_text(LESSON)

    page.goto("/curriculum")
    expect(course.locator(f"a:text-is('{LESSON}')")).to_be_visible()
    selected = page.locator("section[aria-labelledby=selected-heading]")
    expect(selected.locator("#selected-heading .pill")).to_have_text("1")
    screenshot(page, "curriculum")

    selected.locator(f"a:text-is('{EVIDENCE_ID}')").click()
    page.wait_for_url(f"**/clips/{clip_id}")
    form = page.locator("#add-to-lesson")
    expect(form).to_be_visible()
    video_ready(page)
    # Seek (a click on a word), mark in with [, seek further, mark out with ].
    start, now = click_word_and_read_time(page, word_starting_after(page, 1.0))
    assert abs(now - start) <= 0.5
    page.keyboard.press("[")
    end, now = click_word_and_read_time(page, word_starting_after(page, start + 5.0))
    assert abs(now - end) <= 0.5 and end > start
    page.keyboard.press("]")
    expect(form.locator("[data-mark=in]")).not_to_have_text("–")
    expect(form.locator("[data-mark=out]")).not_to_have_text("–")
    form.locator("#lesson").select_option(str(lesson_id))
    form.locator("#lesson-item-title").fill("Is everyone okay?")
    form.locator("button[type=submit]:text-is('Add to lesson')").click()
    expect(form.locator("#lesson-status")).to_contain_text(f"to “{LESSON}” as item 1")
    screenshot(page, "clip add to lesson")

    page.goto(f"/curriculum/lessons/{lesson_id}")
    items = page.locator("#lesson-items li[data-item-id]")
    expect(items).to_have_count(1)
    expect(items.first.locator(".item-title")).to_have_text("Is everyone okay?")
    expect(items.first).to_contain_text(EVIDENCE_ID)
    # The redaction: the worker detects faces and spoken PII; a second person approves it.
    editor = items.first.locator(".redaction-state a").get_attribute("href")
    page.goto(editor)
    expect(page.locator("#redaction-status")).to_contain_text("Draft", timeout=EXPORT_TIMEOUT_MS)
    screenshot(page, "redaction editor")
    approver = sign_in("tester")
    approver.goto(editor)
    approver.click("#approve")
    expect(approver.locator("#redaction-status")).to_contain_text("Approved by tester")
    page.goto(f"/curriculum/lessons/{lesson_id}")
    expect(items.first.locator(".redaction-state")).to_contain_text("approved")
    page.click("#export-start")
    link = page.locator("#export-text a")
    expect(link).to_be_visible(timeout=EXPORT_TIMEOUT_MS)
    expect(link).to_contain_text("Download the export")
    screenshot(page, "lesson")
    with page.expect_download() as downloading:
        link.click()
    download = downloading.value
    assert download.suggested_filename.endswith(".zip"), download.suggested_filename
    data = Path(download.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert "manifest.json" in names, names
        assert any(name.endswith(".mp4") for name in names), names
        manifest = json.loads(archive.read("manifest.json"))
    assert LESSON in json.dumps(manifest), manifest


# --- act 5: the program's pages: dashboard, administration, audit ------------------------------


def test_dashboard_admin_and_audit(sign_in, screenshot, story):
    needs(story, "clip_id", "reviewed", "nomination_id")
    page = sign_in("committee")
    go(page, "Dashboard")
    expect(page.locator("h1")).to_have_text("Program dashboard")
    expect(page.locator("figure.chart-card svg").first).to_be_visible()
    screenshot(page, "dashboard")

    admin = sign_in("tester")  # the admin (and reviewer) that the live fixture signs in with
    go(admin, "Admin")
    users = admin.locator("#admin-users")
    for name in ("officer", "reviewer", "committee", "trainer", "tester"):
        expect(users).to_contain_text(name)
    screenshot(admin, "admin")

    admin.click("a:text-is('Audit log')")
    admin.wait_for_url("**/admin/audit")
    actions = admin.locator("table.audit tbody td:nth-child(4)")
    expect(actions.first).to_be_visible()
    admin.click("#verify-chain")
    expect(admin.locator("#verify-result")).to_contain_text("Intact")
    screenshot(admin, "audit")
    for action, actor in (
        ("clip.upload", "officer"),
        ("clip.tag", "officer"),
        ("review.decide", "reviewer"),
        ("nomination.create", "reviewer"),
        ("nomination.vote", "committee"),
        ("nomination.decide", "committee2"),
    ):
        admin.goto(f"/admin/audit?action={action}")
        expect(admin.locator("table.audit tbody tr").first).to_contain_text(actor)
    # The API reference, offline, under the same Content-Security-Policy as every page.
    admin.goto("/docs")
    expect(admin.locator(".opblock-summary-path").first).to_be_visible()
    expect(admin.locator("#swagger-ui")).to_contain_text("/api/v1/clips")
