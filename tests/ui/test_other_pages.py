"""Upload, My footage, Nominations, Awards and the Dashboard, rendered in-process for each role;
and the SVG chart renderer on its own."""

import re
import uuid
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from datetime import date
from html import unescape

import pytest
from fastapi.testclient import TestClient

from review_ui import charts
from review_ui.awards import PAGE_SIZE
from tests.accounts import bearer, fresh_copy, make_user

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


def bars(page: str, chart: str) -> dict[tuple[str, str], float]:
    """{(label, series): value} of the bars in one chart of a page."""
    svg = re.search(rf'<svg[^>]*id="{chart}".*?</svg>', page, re.S)
    assert svg, f"no chart {chart}"
    found = {}
    for attrs in re.findall(r"<rect ([^>]*data-value[^>]*)>", svg.group(0)):
        values = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', attrs))
        found[(unescape(values["data-label"]), unescape(values["data-series"]))] = float(
            values["data-value"].replace(",", "")
        )
    return found


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
    officer = client_for(app, ["officer"], badge=unique("b")).get("/my").text
    assert 'href="/upload"' in officer and 'href="/dashboard"' not in officer and 'href="/nominations"' not in officer


# --- upload -----------------------------------------------------------------------------------


def test_upload_page_files_an_officer_under_their_own_badge(app, app_client):
    badge = unique("b")
    page = client_for(app, ["officer"], badge=badge).get("/upload").text
    assert f'<input id="badge_number" name="badge_number" type="hidden" value="{badge}">' in page
    assert 'src="/static/upload.js"' in page and 'type="file" multiple' in page
    for category in ("de-escalation", "community-engagement", "life-saving"):
        assert f'name="categories" value="{category}"' in page
    admin = app_client.get("/upload").text
    assert '<input id="badge_number" name="badge_number" type="text"' in admin  # an admin types it


def test_upload_page_refuses_an_officer_without_a_badge(app):
    page = client_for(app, ["officer"]).get("/upload").text
    assert "has no badge number" in page and "upload.js" not in page and "upload-form" not in page


def test_upload_script_sends_the_csrf_header_and_follows_the_clip(app_client):
    script = app_client.get("/static/upload.js")
    assert script.status_code == 200
    js = script.text
    assert 'meta[name="csrf-token"]' in js and 'setRequestHeader("X-CSRF-Token"' in js
    assert 'xhr.upload.addEventListener("progress"' in js and "/api/v1/clips/${id}" in js


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

    page = me.get("/my").text
    assert f'id="clip-{my_clip["id"]}"' in page and "EV-MINE" in page
    assert f'id="clip-{their_clip["id"]}"' not in page and "EV-THEIRS" not in page
    assert "offers water" in page and "1:05" in page and "kneels down" in page  # the tags I gave
    assert "processing" in page and "tag-form" not in page  # tags are added once the clip is ready
    assert f'id="clip-{their_clip["id"]}"' not in app_client.get("/my").text  # an admin's own are theirs too

    mark_ready(my_clip["id"])
    asked = app_client.post(
        f"/api/v1/review/{my_clip['id']}/decisions", json={"kind": "needs_info", "reason": "Who called the <medic>?"}
    )
    assert asked.status_code == 201, asked.text
    page = me.get("/my").text
    assert f'<form class="tag-form" data-clip="{my_clip["id"]}">' in page
    assert f'href="/clips/{my_clip["id"]}"' in page and f'href="/clips/{my_clip["id"]}?t=65.0"' in page
    assert "Who called the &lt;medic&gt;?" in page  # the open question, escaped
    assert f'<form class="reply-form" data-clip="{my_clip["id"]}">' in page
    assert 'src="/static/my.js"' in page

    assert me.post(f"/api/v1/clips/{my_clip['id']}/replies", json={"text": "Dispatch did."}).status_code == 201
    page = me.get("/my").text
    assert "reply-form" not in page and "Dispatch did." in page and "Waiting for review" in page

    only = me.get("/my", params={"clip": my_clip["id"], "at": "12"}).text
    assert only.count('class="card clip"') == 1
    assert f'id="clip-{their_clip["id"]}"' not in me.get("/my", params={"clip": their_clip["id"]}).text


def test_my_footage_filters_by_status_and_pages(app, fixtures, tmp_path):
    from review_ui.officer import PAGE_SIZE

    badge = unique("b")
    me = client_for(app, ["officer"], badge=badge)
    ready = upload_clip(me, fixtures, tmp_path, badge)
    waiting = upload_clip(me, fixtures, tmp_path, badge)
    mark_ready(ready["id"])
    page = me.get("/my", params={"status": "ready"}).text
    assert f'id="clip-{ready["id"]}"' in page and f'id="clip-{waiting["id"]}"' not in page
    assert "2 clips" in me.get("/my").text
    assert 'class="card clip"' not in me.get("/my", params={"page": 2}).text  # 2 clips: one page of PAGE_SIZE
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
        assert me.get("/my").text.count('class="card clip"') == 5
    assert len(more) == len(few)


def test_officer_without_badge_sees_an_explanation(app):
    page = client_for(app, ["officer"]).get("/my").text
    assert "has no badge number" in page and 'class="card clip"' not in page


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
    before = bars(committee.get("/dashboard").text, "chart-awards").get((AWARD_MONTH, "awards"), 0)
    decided = committee.post(
        f"/api/v1/nominations/{nomination['id']}/decision",
        json={"approve": True, "award_name": "Act of Excellence", "awarded_on": f"{AWARD_MONTH}-15"},
    )
    assert decided.status_code == 200, decided.text
    return {**officer_on_file, "nomination": nomination, "awards_before": before, "committee": committee}


def test_nominations_show_clips_and_moments_and_controls_only_to_the_committee(app, app_client, officer_on_file):
    nomination = nominate(app_client, officer_on_file)
    card = f'id="nomination-{nomination["id"]}"'
    control = f'<form class="decide-form" data-nomination="{nomination["id"]}">'
    # Pending ones come oldest first, 20 a page, and other tests nominate too: the newest is on the last page.
    pending = app_client.get("/api/v1/nominations", params={"state": "pending"}).json()
    last_page = {"pending_page": -(-len(pending) // PAGE_SIZE)}
    committee = client_for(app, ["committee"]).get("/nominations", params=last_page).text
    assert card in committee and control in committee and 'src="/static/nominations.js"' in committee
    assert committee.index(card) < committee.index('id="decided-heading"')  # pending
    assert f'href="/clips/{officer_on_file["clip"]["id"]}?t=3.0"' in committee
    assert "introduces &lt;himself&gt;" in committee and "Sam Ortiz" in committee
    assert control in app_client.get("/nominations", params=last_page).text  # admins decide too

    reviewer = client_for(app, ["reviewer"]).get("/nominations", params=last_page).text
    assert card in reviewer and "Calm and kind" in reviewer
    assert "decide-form" not in reviewer and "nominations.js" not in reviewer and ">Approve<" not in reviewer


def test_an_approval_shows_on_the_dashboard(approved):
    page = approved["committee"].get("/dashboard").text
    assert page.count("<svg") >= 6
    count = approved["awards_before"] + 1
    assert bars(page, "chart-awards")[(AWARD_MONTH, "awards")] == count
    assert f"<title>{AWARD_MONTH} · awards: {count:.0f}</title>" in page
    assert bars(page, "chart-division-awards")[(approved["division"], "awards")] == 1
    assert bars(page, "chart-division-tags")[(approved["division"], "tags")] == 1


def test_a_decided_nomination_moves_below_without_controls(approved):
    page = approved["committee"].get("/nominations").text
    card = page.index(f'id="nomination-{approved["nomination"]["id"]}"')
    assert card > page.index('id="decided-heading"')
    assert f'<form class="decide-form" data-nomination="{approved["nomination"]["id"]}">' not in page
    assert "Approved by" in page[card:]


def test_the_award_shows_in_the_record_and_in_my_footage(approved, app_client):
    mine = approved["officer"].get("/my").text
    assert "Act of Excellence" in mine and f"{AWARD_MONTH}-15" in mine and "approved" in mine

    record = approved["committee"].get("/awards", params={"division": approved["division"]}).text
    assert "Sam Ortiz" in record and f"{AWARD_MONTH}-15" in record and "1 award" in record
    staff = app_client.get("/awards", params={"badge_number": approved["badge"]}).text
    assert f'<option value="{approved["badge"]}" selected>' in staff and "Sam Ortiz" in staff


def test_officers_see_only_their_own_awards(app, approved):
    other = client_for(app, ["officer"], badge=unique("b"))
    page = other.get("/awards", params={"badge_number": approved["badge"]}).text
    assert "Sam Ortiz" not in page and "No awards" in page and 'name="division"' not in page
    own = approved["officer"].get("/awards", params={"division": "elsewhere"}).text
    assert "Sam Ortiz" in own and 'name="division"' not in own  # the filter is ignored: their own, always


def test_dashboard_counts_new_tags_and_the_queue_by_age(app, app_client, fixtures, tmp_path):
    from datetime import UTC, datetime, timedelta

    from api.db import session_scope
    from api.review.service import item_for

    month = date.today().strftime("%Y-%m")
    page = app_client.get("/dashboard").text
    tags, ages = bars(page, "chart-tags"), bars(page, "chart-queue-age")
    fresh = upload_clip(app_client, fixtures, tmp_path, "4711", categories=["life-saving", "de-escalation"])
    old = upload_clip(app_client, fixtures, tmp_path, "4711")
    with session_scope() as session:  # this one has waited ten days
        item = item_for(session, old["id"])
        item.queued_at = datetime.now(UTC) - timedelta(days=10)
        session.add(item)

    page = app_client.get("/dashboard").text
    after = bars(page, "chart-tags")
    assert after[(month, "life-saving")] == tags.get((month, "life-saving"), 0) + 1
    assert after[(month, "de-escalation")] == tags.get((month, "de-escalation"), 0) + 2
    queue = bars(page, "chart-queue-age")
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
        assert "<script" not in svg and "&lt;script&gt;" in svg
        root = parse(svg)
        assert root.find("{http://www.w3.org/2000/svg}title").text == evil


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
    assert "No data yet" in svg and not bars_drawn


def test_hbar_chart_scales_to_the_largest_value_and_writes_it():
    root = parse(charts.hbar_chart([("Metro", 10), ("North", 5), ("East", 0)], title="By division", series="tags"))
    rects = {r.get("data-label"): r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("data-value")}
    assert set(rects) == {"Metro", "North"}  # a zero draws no bar, but keeps its label
    assert float(rects["Metro"].get("width")) == pytest.approx(2 * float(rects["North"].get("width")))
    assert rects["North"].find("{http://www.w3.org/2000/svg}title").text == "North · tags: 5"
    assert ">East<" in ET.tostring(root, encoding="unicode")


def test_bad_values_draw_as_zero_and_ids_are_safe():
    svg = charts.bar_chart(["a", "b"], {"s": [float("nan"), -3]}, title="x")
    assert "No data yet" in svg
    assert re.fullmatch(r"chart-[a-z0-9-]+", charts.chart_id('Tags "per" <month>'))


def test_ticks_and_months():
    assert charts.nice_ticks(7) == [0, 2, 4, 6, 8]
    assert charts.nice_ticks(100) == [0, 25, 50, 75, 100]
    assert charts.nice_ticks(1) == [0, 1]
    assert charts.month_range(["2026-11", "2027-02"]) == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert charts.month_range(["2001-01", "2026-01"]) == ["2001-01", "2026-01"]  # too long a span: as given
    assert charts.month_range([]) == []
    assert charts.fmt(1234) == "1,234" and charts.fmt(1.25) == "1.2"
