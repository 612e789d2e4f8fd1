"""An officer marks moments on a file in the upload form, before sending it; they arrive with it."""

import re
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

SILENT = Path(__file__).resolve().parents[1] / "fixtures" / "silent.mkv"


def test_moments_marked_in_the_upload_form_arrive_with_the_clip(sign_in, live, tmp_path):
    clip = tmp_path / "moments.mkv"
    clip.write_bytes(SILENT.read_bytes() + b"upload-moments")  # new bytes: a new clip
    page = sign_in("officer")
    page.goto("/upload")
    page.set_input_files("#file-input", str(clip))
    row = page.locator("#file-list li")
    row.locator("summary").click()
    at, note = row.get_by_label(re.compile("Moment time")), row.get_by_label(re.compile("Moment note"))

    at.fill("soon")
    note.fill("never added")
    row.get_by_role("button", name="Add moment").click()
    expect(row.get_by_role("alert")).to_contain_text("m:ss")

    at.fill("0:03")
    note.fill("offers water")
    at.press("Enter")
    at.fill("1.5")
    note.fill("arrives")
    row.get_by_role("button", name="Add moment").click()
    expect(row.locator(".moments li")).to_have_text([re.compile("0:01 arrives"), re.compile("0:03 offers water")])
    expect(row.locator("summary")).to_have_text("Moments (2)")

    page.check("input[name=categories][value=community-engagement]")
    page.click("#upload-button")
    state = row.locator(".state")
    expect(state).to_contain_text(re.compile(r"Clip \d+"), timeout=30_000)
    clip_id = re.search(r"Clip (\d+)", state.inner_text()).group(1)
    markers = live.get(f"/api/v1/clips/{clip_id}").json()["markers"]
    assert [(m["at"], m["note"]) for m in markers] == [(1.5, "arrives"), (3.0, "offers water")]
