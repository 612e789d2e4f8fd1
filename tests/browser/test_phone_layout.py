"""On a phone-sized screen (390 px wide) no page scrolls sideways: the officer's pages work there
(tagging and My footage), the others at least fit."""

from pathlib import Path

import pytest

from tests.services import upload, wait_settled

pytest.importorskip("playwright")
SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "speech.mp4"

PHONE = {"width": 390, "height": 844}
PAGES = {
    "officer": ["/upload", "/my", "/awards", "/inbox"],
    "reviewer": ["/queue", "/nominations", "/dashboard", "/inbox"],
    "trainer": ["/curriculum"],
}


def _overflow(page) -> int:
    """How many pixels the page is wider than the screen."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("role", sorted(PAGES))
def test_pages_fit_a_phone_screen(sign_in, role, screenshot):
    page = sign_in(role)
    page.set_viewport_size(PHONE)
    wide = {}
    for path in PAGES[role]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        if (extra := _overflow(page)) > 0:
            wide[path] = extra
            screenshot(page, f"phone-overflow-{role}-{path}")
    assert not wide, f"pages wider than a 390 px screen (px too wide): {wide}"


def test_the_officer_can_tag_an_upload_on_a_phone(sign_in):
    page = sign_in("officer")
    page.set_viewport_size(PHONE)
    page.goto("/upload")
    for control in ("#file-input", "input[name=categories][value=de-escalation]", "#upload-button"):
        box = page.locator(control).first.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], control


def test_the_clip_page_fits_a_phone_screen(sign_in, live, tmp_path):
    clip = tmp_path / "phone.mp4"
    clip.write_bytes(SPEECH.read_bytes() + b"phone-layout")  # new bytes: a new clip
    clip_id = upload(live, clip).json()["id"]
    wait_settled(live, clip_id, timeout=300)
    for role in ("reviewer", "officer"):
        page = sign_in(role)
        page.set_viewport_size(PHONE)
        page.goto(f"/clips/{clip_id}")
        page.wait_for_load_state("networkidle")
        assert _overflow(page) <= 0, f"the clip page is {_overflow(page)} px wider than a phone for the {role}"
