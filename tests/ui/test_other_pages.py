"""Upload, My footage, Nominations, Awards and the Dashboard, rendered in-process for each role;
and the SVG chart renderer on its own."""

import re
import uuid
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from datetime import date

import pytest
from fastapi.testclient import TestClient

from review_ui import charts
from review_ui.awards import PAGE_SIZE
from tests.accounts import bearer, fresh_copy, make_user
from tests.html import attrs, one, page, row_texts, text, texts

PAGES = ["/upload", "/my", "/nominations", "/awards", "/dashboard"]
ALLOWED = {  # role -> pages it may open (the others answer 403)
    "officer": {"/upload", "/my", "/awards"},
    "reviewer": {"/nominations", "/awards", "/dashboard"},
    "committee": {"/nominations", "/awards", "/dashboard"},
    "trainer": {"/awards"},
    "admin": set(PAGES),
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def client_for(app, roles, badge=None) -> TestClient:
    _, token = make_user(roles=roles, badge=badge)
    return TestClient(app, headers=bearer(token))


def upload_clip(client, fixtures, tmp_path, badge, **fields) -> dict:
    from tests.services import upload

    response = upload(client, fresh_copy(fixtures / "silent.mkv", tmp_path, unique("ui")), badge_number=badge, **fields)
    assert response.status_code == 201, response.text
    return response.json()


def mark_ready(clip_id: int) -> None:
    """No worker runs in-process: the pipeline's outcome is set directly."""
    from api.clips.models import Clip, ClipStatus
    from api.db import session_scope

    with session_scope() as session:
        clip = session.get(Clip, clip_id)
        clip.status = ClipStatus.READY
        session.add(clip)


def bars(soup, chart: str) -> dict[tuple[str, str], float]:
    """{(label, series): value} of the bars in one chart of a page."""
    return {
        (rect["data-label"], rect["data-series"]): float(rect["data-value"].replace(",", ""))
        for rect in one(soup, f"svg#{chart}").select("rect[data-value]")
    }


def card_of(soup, clip_id: int):
    """A clip's card on My footage."""
    return one(soup, f"li.card.clip#clip-{clip_id}")


def nav_links(soup) -> list[str]:
    return attrs(soup, "header.top nav a", "href")


# --- who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(anonymous, path):
    response = anonymous.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_page_opens_for_its_roles_only(app, role):
    client = client_for(app, [role], badge=unique("b"))
    for path in PAGES:
        response = client.get(path, follow_redirects=False)
        expected = 200 if path in ALLOWED[role] else 403
        assert response.status_code == expected, f"{role} {path}: {response.status_code}"
        assert response.headers["content-type"].startswith("text/html")


def test_navigation_offers_only_what_the_role_may_open(app):
    officer = nav_links(page(client_for(app, ["officer"], badge=unique("b")).get("/my")))
    assert "/upload" in officer and "/dashboard" not in officer and "/nominations" not in officer


# --- upload -----------------------------------------------------------------------------------


def test_upload_page_files_an_officer_under_their_own_badge(app, app_client):
    badge = unique("b")
    upload_page = page(client_for(app, ["officer"], badge=badge).get("/upload"))
    form = one(upload_page, "form#upload-form")
    filed_under = one(form, "input#badge_number")
    assert (filed_under["name"], filed_under["type"], filed_under["value"]) == ("badge_number", "hidden", badge)
    assert one(upload_page, 'script[src="/static/upload.js"]') and one(form, "input[type=file]").has_attr("multiple")
    offered = attrs(form, 'input[type=checkbox][name="categories"]', "value")
    assert {"de-escalation", "community-engagement", "life-saving"} <= set(offered)
    typed = one(page(app_client.get("/upload")), "form#upload-form input#badge_number")
    assert (typed["name"], typed["type"]) == ("badge_number", "text")  # an admin types it


def test_upload_page_refuses_an_officer_without_a_badge(app):
    refused = page(client_for(app, ["officer"]).get("/upload"))
    assert any("has no badge number" in alert for alert in texts(refused, '[role="alert"]'))
    assert not refused.select('script[src$="upload.js"]') and not refused.select("#upload-form")


# --- my footage -------------------------------------------------------------------------------


def test_my_footage_lists_my_clips_not_another_officers(app, app_client, fixtures, tmp_path):
    mine, theirs = unique("b"), unique("b")
    me, other = client_for(app, ["officer"], badge=mine), client_for(app, ["officer"], badge=theirs)
    my_clip = upload_clip(
        me,
        fixtures,
        tmp_path,
        mine,
        evidence_id="EV-MINE",
        note="offers water",
        markers='[{"at": 65, "note": "kneels down"}]',
    )
    their_clip = upload_clip(other, fixtures, tmp_path, theirs, evidence_id="EV-THEIRS")

    footage = page(me.get("/my"))
    card = card_of(footage, my_clip["id"])
    assert "evidence EV-MINE" in text(one(card, ".facts"))
    assert not footage.select(f"#clip-{their_clip['id']}") and "EV-THEIRS" not in text(footage)
    tags = text(one(card, "ul.tags"))
    assert "offers water" in tags and "1:05 kneels down" in tags  # the tags I gave
    assert text(one(card, "header .pill")) == "processing"
    assert not footage.select("form.tag-form")  # tags are added once the clip is ready
    assert not page(app_client.get("/my")).select(f"#clip-{their_clip['id']}")  # an admin's own are theirs too

    mark_ready(my_clip["id"])
    asked = app_client.post(
        f"/api/v1/review/{my_clip['id']}/decisions", json={"kind": "needs_info", "reason": "Who called the <medic>?"}
    )
    assert asked.status_code == 201, asked.text
    footage = page(me.get("/my"))
    card = card_of(footage, my_clip["id"])
    assert one(card, f'form.tag-form[data-clip="{my_clip["id"]}"]')
    links = attrs(card, "a", "href")
    assert f"/clips/{my_clip['id']}" in links and f"/clips/{my_clip['id']}?t=65.0" in links
    question = one(card, "[data-question]")
    assert "Who called the <medic>?" in text(question) and not question.select("medic")  # escaped: text, no element
    assert one(card, f'form.reply-form[data-clip="{my_clip["id"]}"]')
    assert one(footage, 'script[src="/static/my.js"]')

    assert me.post(f"/api/v1/clips/{my_clip['id']}/replies", json={"text": "Dispatch did."}).status_code == 201
    card = card_of(page(me.get("/my")), my_clip["id"])
    assert not card.select("form.reply-form") and "Dispatch did." in text(card) and "Waiting for review" in text(card)

    only = page(me.get("/my", params={"clip": my_clip["id"], "at": "12"}))
    assert [clip["id"] for clip in only.select("li.card.clip")] == [f"clip-{my_clip['id']}"]
    assert not page(me.get("/my", params={"clip": their_clip["id"]})).select(f"#clip-{their_clip['id']}")


def test_my_footage_filters_by_status_and_pages(app, fixtures, tmp_path):
    from review_ui.officer import PAGE_SIZE

    badge = unique("b")
    me = client_for(app, ["officer"], badge=badge)
    ready = upload_clip(me, fixtures, tmp_path, badge)
    waiting = upload_clip(me, fixtures, tmp_path, badge)
    mark_ready(ready["id"])
    shown = page(me.get("/my", params={"status": "ready"}))
    assert attrs(shown, "li.card.clip", "id") == [f"clip-{ready['id']}"] and not shown.select(f"#clip-{waiting['id']}")
    assert "2 clips" in text(one(page(me.get("/my")), "main"))
    assert not page(me.get("/my", params={"page": 2})).select("li.card.clip")  # 2 clips: one page of PAGE_SIZE
    assert PAGE_SIZE >= 2


def test_my_footage_costs_the_same_queries_for_more_clips(app, fixtures, tmp_path):
    """No per-clip queries: a page of five clips takes as many statements as a page of two."""
    from sqlalchemy import event

    from api.db import get_engine

    badge = unique("b")
    me = client_for(app, ["officer"], badge=badge)

    @contextmanager
    def counting():
        statements = []

        def count(*_):
            statements.append(1)

        event.listen(get_engine(), "before_cursor_execute", count)
        try:
            yield statements
        finally:
            event.remove(get_engine(), "before_cursor_execute", count)

    for _ in range(2):
        upload_clip(me, fixtures, tmp_path, badge)
    with counting() as few:
        assert me.get("/my").status_code == 200
    for _ in range(3):
        upload_clip(me, fixtures, tmp_path, badge)
    with counting() as more:
        assert len(page(me.get("/my")).select("li.card.clip")) == 5
    assert len(more) == len(few)


def test_officer_without_badge_sees_an_explanation(app):
    explained = page(client_for(app, ["officer"]).get("/my"))
    assert any("has no badge number" in alert for alert in texts(explained, '[role="alert"]'))
    assert not explained.select("li.card.clip")


# --- nominations, awards, dashboard -----------------------------------------------------------


AWARD_MONTH = "2031-03"  # no other test awards anything in this month


@pytest.fixture(scope="module")
def officer_on_file(app, app_client, fixtures, tmp_path_factory):
    """An officer in the directory (with a division) and a ready clip of theirs."""
    badge, division = unique("b"), unique("Division")
    imported = app_client.post(
        "/api/v1/officers/import",
        content=f"badge_number,name,division\n{badge},Sam Ortiz,{division}\n",
        headers={"Content-Type": "text/csv"},
    )
    assert imported.json()["imported"] == 1
    officer = client_for(app, ["officer"], badge=badge)
    clip = upload_clip(officer, fixtures, tmp_path_factory.mktemp("on-file"), badge, division=division)
    mark_ready(clip["id"])
    return {"badge": badge, "division": division, "clip": clip, "officer": officer}


def nominate(app_client, who) -> dict:
    response = app_client.post(
        "/api/v1/nominations",
        json={
            "officers": [who["badge"]],
            "clips": [{"clip_id": who["clip"]["id"], "moments": [{"at": 3.0, "note": "introduces <himself>"}]}],
            "narrative": "Calm and kind with a frightened driver.",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def approved(app, app_client, officer_on_file):
    """A nomination the committee approved, and the dashboard's awards chart from just before."""
    committee = client_for(app, ["committee"])
    nomination = nominate(app_client, officer_on_file)
    before = bars(page(committee.get("/dashboard")), "chart-awards").get((AWARD_MONTH, "awards"), 0)
    decided = committee.post(
        f"/api/v1/nominations/{nomination['id']}/decision",
        json={"approve": True, "award_name": "Act of Excellence", "awarded_on": f"{AWARD_MONTH}-15"},
    )
    assert decided.status_code == 200, decided.text
    seconded = client_for(app, ["committee"]).post(
        f"/api/v1/nominations/{nomination['id']}/votes", json={"approve": True}
    )
    assert seconded.status_code == 200 and seconded.json()["state"] == "approved", seconded.text  # the quorum is two
    return {**officer_on_file, "nomination": nomination, "awards_before": before, "committee": committee}


def test_nominations_show_clips_and_moments_and_controls_only_to_the_committee(app, app_client, officer_on_file):
    nomination = nominate(app_client, officer_on_file)
    pending_card = f'section[aria-labelledby="pending-heading"] article.nomination#nomination-{nomination["id"]}'
    control = f'form.decide-form[data-nomination="{nomination["id"]}"]'
    # Pending ones come oldest first, 20 a page, and other tests nominate too: the newest is on the last page.
    pending = app_client.get("/api/v1/nominations", params={"state": "pending"}).json()
    last_page = {"pending_page": -(-len(pending) // PAGE_SIZE)}
    committee = page(client_for(app, ["committee"]).get("/nominations", params=last_page))
    card = one(committee, pending_card)
    assert one(card, control) and one(committee, 'script[src="/static/nominations.js"]')
    moment = one(card, f'ul.moments a[href="/clips/{officer_on_file["clip"]["id"]}?t=3.0"]').parent
    assert text(moment) == "0:03 introduces <himself>" and not moment.select("himself")  # escaped: text, no element
    assert "Sam Ortiz" in text(card)
    assert one(page(app_client.get("/nominations", params=last_page)), control)  # admins decide too

    reviewer = page(client_for(app, ["reviewer"]).get("/nominations", params=last_page))
    assert "Calm and kind" in text(one(reviewer, pending_card))
    assert not reviewer.select("form.decide-form") and not reviewer.select('script[src$="nominations.js"]')
    assert "Approve" not in texts(reviewer, "button")


def test_an_approval_shows_on_the_dashboard(approved):
    dashboard = page(approved["committee"].get("/dashboard"))
    assert len(dashboard.select("svg.chart")) >= 6
    count = approved["awards_before"] + 1
    assert bars(dashboard, "chart-awards")[(AWARD_MONTH, "awards")] == count
    bar = one(dashboard, f'svg#chart-awards rect[data-label="{AWARD_MONTH}"][data-series="awards"]')
    assert text(one(bar, "title")) == f"{AWARD_MONTH} · awards: {count:.0f}"
    assert bars(dashboard, "chart-division-awards")[(approved["division"], "awards")] == 1
    assert bars(dashboard, "chart-division-tags")[(approved["division"], "tags")] == 1


def test_a_decided_nomination_moves_below_without_controls(approved):
    nominations = page(approved["committee"].get("/nominations"))
    nomination_id = approved["nomination"]["id"]
    card = one(nominations, f'section[aria-labelledby="decided-heading"] article.nomination#nomination-{nomination_id}')
    assert not nominations.select(f'form.decide-form[data-nomination="{nomination_id}"]')
    assert text(one(card, "p.decision")).startswith("Approved by")


def test_the_award_shows_in_the_record_and_in_my_footage(approved, app_client):
    mine = page(approved["officer"].get("/my"))
    my_awards = row_texts(mine, 'section[aria-labelledby="my-awards"] tbody tr')
    assert any({"Act of Excellence", f"{AWARD_MONTH}-15", approved["division"]} <= set(row) for row in my_awards)
    assert "approved" in texts(mine, 'section[aria-labelledby="my-nominations"] tbody .pill')

    record = page(approved["committee"].get("/awards", params={"division": approved["division"]}))
    award = {f"{AWARD_MONTH}-15", f"Sam Ortiz ({approved['badge']})", approved["division"], "Act of Excellence"}
    [row] = row_texts(record)
    assert award <= set(row) and text(one(record, "table caption")) == "1 award"
    staff = page(app_client.get("/awards", params={"badge_number": approved["badge"]}))
    assert one(staff, f'select#badge_number option[value="{approved["badge"]}"]').has_attr("selected")
    assert any(award <= set(row) for row in row_texts(staff))


def test_officers_see_only_their_own_awards(app, approved):
    other = client_for(app, ["officer"], badge=unique("b"))
    theirs = page(other.get("/awards", params={"badge_number": approved["badge"]}))
    assert row_texts(theirs) == [] and "Sam Ortiz" not in text(theirs) and "No awards" in text(one(theirs, "main"))
    assert not theirs.select('[name="division"]')
    own = page(approved["officer"].get("/awards", params={"division": "elsewhere"}))
    [row] = row_texts(own)
    assert f"Sam Ortiz ({approved['badge']})" in row
    assert not own.select('[name="division"]')  # the filter is ignored: their own, always


def test_dashboard_counts_new_tags_and_the_queue_by_age(app, app_client, fixtures, tmp_path):
    from datetime import UTC, datetime, timedelta

    from api.db import session_scope
    from api.review.service import item_for

    month = date.today().strftime("%Y-%m")
    dashboard = page(app_client.get("/dashboard"))
    tags, ages = bars(dashboard, "chart-tags"), bars(dashboard, "chart-queue-age")
    fresh = upload_clip(app_client, fixtures, tmp_path, "4711", categories=["life-saving", "de-escalation"])
    old = upload_clip(app_client, fixtures, tmp_path, "4711")
    with session_scope() as session:  # this one has waited ten days
        item = item_for(session, old["id"])
        item.queued_at = datetime.now(UTC) - timedelta(days=10)
        session.add(item)

    dashboard = page(app_client.get("/dashboard"))
    after = bars(dashboard, "chart-tags")
    assert after[(month, "life-saving")] == tags.get((month, "life-saving"), 0) + 1
    assert after[(month, "de-escalation")] == tags.get((month, "de-escalation"), 0) + 2
    queue = bars(dashboard, "chart-queue-age")
    assert queue[("under a day", "clips")] == ages.get(("under a day", "clips"), 0) + 1
    assert queue[("1–2 weeks", "clips")] == ages.get(("1–2 weeks", "clips"), 0) + 1
    assert fresh["id"] != old["id"]


# --- charts.py --------------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def test_bar_chart_draws_stacked_bars_with_titles():
    svg = charts.bar_chart(
        ["2026-10", "2026-11"], {"de-escalation": [2, 4], "life-saving": [0, 4]}, title="Tags per month", ident="t1"
    )
    root = parse(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img" and root.find(f"{ns}title").text == "Tags per month"
    rects = [r for r in root.iter(f"{ns}rect") if r.get("data-value")]
    assert [(r.get("data-label"), r.get("data-series"), r.get("data-value")) for r in rects] == [
        ("2026-10", "de-escalation", "2"),
        ("2026-11", "de-escalation", "4"),
        ("2026-11", "life-saving", "4"),
    ]
    assert [r.find(f"{ns}title").text for r in rects][-1] == "2026-11 · life-saving: 4"
    heights = [float(r.get("height")) for r in rects]
    assert heights[1] == pytest.approx(2 * heights[0]) and heights[1] == pytest.approx(heights[2])
    # stacked: the second segment sits on the first
    assert float(rects[2].get("y")) + heights[2] == pytest.approx(float(rects[1].get("y")))


def test_grouped_bars_stand_side_by_side():
    root = parse(charts.bar_chart(["a"], {"x": [1], "y": [1]}, title="g", stacked=False))
    rects = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("data-value")]
    assert rects[0].get("y") == rects[1].get("y") and rects[0].get("x") != rects[1].get("x")


def test_charts_escape_every_text():
    evil = '<script>alert("x")</script>&'
    for svg in (
        charts.bar_chart([evil], {evil: [1]}, title=evil),
        charts.hbar_chart({evil: 3}, title=evil, series=evil, unit=evil),
        charts.empty_chart(evil, message=evil),
    ):
        assert "<script" not in svg  # nothing of it a browser would run
        root = parse(svg)
        assert not [element for element in root.iter() if element.tag.endswith("}script")]
        assert root.find("{http://www.w3.org/2000/svg}title").text == evil  # written as text, whole


@pytest.mark.parametrize(
    "svg",
    [
        charts.bar_chart([], {}, title="Empty"),
        charts.bar_chart(["2026-11"], {"a": [0]}, title="Zeros"),
        charts.bar_chart(["2026-11"], {}, title="No series"),
        charts.hbar_chart({}, title="Empty"),
        charts.hbar_chart([("a", 0), ("b", None)], title="Zeros"),
    ],
)
def test_empty_data_says_so(svg):
    root = parse(svg)
    bars_drawn = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("data-value")]
    assert "No data yet" in "".join(root.itertext()) and not bars_drawn


def test_hbar_chart_scales_to_the_largest_value_and_writes_it():
    root = parse(charts.hbar_chart([("Metro", 10), ("North", 5), ("East", 0)], title="By division", series="tags"))
    rects = {r.get("data-label"): r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("data-value")}
    assert set(rects) == {"Metro", "North"}  # a zero draws no bar, but keeps its label
    assert float(rects["Metro"].get("width")) == pytest.approx(2 * float(rects["North"].get("width")))
    assert rects["North"].find("{http://www.w3.org/2000/svg}title").text == "North · tags: 5"
    assert "East" in [label.text for label in root.iter("{http://www.w3.org/2000/svg}text")]


def test_bad_values_draw_as_zero_and_ids_are_safe():
    root = parse(charts.bar_chart(["a", "b"], {"s": [float("nan"), -3]}, title="x"))
    assert "No data yet" in "".join(root.itertext())
    assert re.fullmatch(r"chart-[a-z0-9-]+", charts.chart_id('Tags "per" <month>'))


def test_ticks_and_months():
    assert charts.nice_ticks(7) == [0, 2, 4, 6, 8]
    assert charts.nice_ticks(100) == [0, 25, 50, 75, 100]
    assert charts.nice_ticks(1) == [0, 1]
    assert charts.month_range(["2026-11", "2027-02"]) == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert charts.month_range(["2001-01", "2026-01"]) == ["2001-01", "2026-01"]  # too long a span: as given
    assert charts.month_range([]) == []
    assert charts.fmt(1234) == "1,234" and charts.fmt(1.25) == "1.2"
