"""Editing the cue rules: validation, the atomic write, which clips get re-scored, and the job that
does it, on the real SQLite database of the in-process app."""

import json
import uuid

import pytest
from sqlmodel import select

from api.clips import recognition
from api.clips.models import Asset, Clip, ClipStatus
from api.clips.service import clip_public, get_store
from api.config import get_settings
from api.db import session_scope
from api.recognition import DEFAULT_RULES_PATH, RulesError
from api.review.models import ReviewItem
from api.search.service import search
from tests.recognition.test_detector import transcript

SPOKEN = transcript(
    "Hi, my name is Officer Lee.",
    "Take a deep breath, you are not in trouble.",
    "Is he breathing? Start CPR, I have the AED.",
)


@pytest.fixture
def rules_file(tmp_path, monkeypatch):
    """The rules in force live in a file of this test's own."""
    path = tmp_path / "rules.json"
    monkeypatch.setattr(get_settings(), "rules_path", path)
    path.write_bytes(DEFAULT_RULES_PATH.read_bytes())
    return path


def edited(change) -> str:
    rules = json.loads(DEFAULT_RULES_PATH.read_text())
    change(rules)
    return json.dumps(rules, indent=1)


def without_life_saving(rules: dict) -> None:
    rules["version"] += 1
    rules["cues"] = [c for c in rules["cues"] if c["category"] != "life-saving"]


def make_ready_clip(app, words: dict = SPOKEN, digest: str | None = None) -> int:
    with session_scope() as session:
        sha = uuid.uuid4().hex * 2
        clip = Clip(
            sha256=sha,
            size_bytes=1,
            status=ClipStatus.READY,
            badge_number="9001",
            evidence_id=f"EV-RESCORE-{sha[:6]}",
            rules_digest=digest,
        )
        session.add(clip)
        session.flush()
        temp = get_store().temp_path(".json")
        temp.write_text(json.dumps(words))
        final = get_store().publish(temp, sha, "transcript.json")
        session.add(
            Asset(
                clip_id=clip.id,
                kind="transcript.json",
                path=get_store().relative(final),
                content_type="application/json",
                size_bytes=1,
                sha256="0" * 64,
                parent_sha256=sha,
                tool="test",
                tool_version="test",
            )
        )
        session.add(ReviewItem(clip_id=clip.id))
        return clip.id


def test_replace_rules_refuses_a_broken_file_and_leaves_the_old_one(rules_file):
    before = rules_file.read_bytes()
    with pytest.raises(RulesError, match="not valid JSON"):
        recognition.replace_rules("{ not json")
    with pytest.raises(RulesError, match="weight"):
        recognition.replace_rules(edited(lambda r: r["cues"][0].update(weight=99)))
    assert rules_file.read_bytes() == before
    assert not list(rules_file.parent.glob(".rules.json.*.tmp"))


def test_replace_rules_puts_the_new_rules_in_force(rules_file):
    old = recognition.current_rules()
    text = edited(without_life_saving)
    new = recognition.replace_rules(text)
    assert rules_file.read_text() == text
    assert new.version == old.version + 1 and new.digest != old.digest
    assert recognition.current_rules().digest == new.digest


def test_without_a_configured_path_admin_edits_go_to_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(get_settings(), "rules_path", None)
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    assert recognition.rules_path() == DEFAULT_RULES_PATH
    recognition.replace_rules(edited(without_life_saving))
    assert recognition.rules_path() == tmp_path / "rules.json"
    assert recognition.current_rules().version == json.loads(DEFAULT_RULES_PATH.read_text())["version"] + 1


def test_a_configured_path_with_no_file_yet_means_the_packaged_rules(rules_file):
    rules_file.unlink()
    assert recognition.rules_path() == DEFAULT_RULES_PATH
    recognition.replace_rules(edited(without_life_saving))
    assert recognition.rules_path() == rules_file
    assert recognition.current_rules().version == json.loads(DEFAULT_RULES_PATH.read_text())["version"] + 1


def test_admins_replace_the_rules_over_the_api_and_a_broken_file_is_refused(rules_file, app_client):
    before = app_client.get("/api/v1/recognition/rules").json()
    assert before["version"] == json.loads(DEFAULT_RULES_PATH.read_text())["version"]
    assert before["rules"]["cues"] and before["cues"] == len(before["rules"]["cues"])

    broken = json.loads(edited(lambda r: r["cues"][0].update(weight=99)))
    refused = app_client.put("/api/v1/recognition/rules", json=broken)
    assert refused.status_code == 422 and "weight" in refused.json()["detail"]
    assert rules_file.read_bytes() == DEFAULT_RULES_PATH.read_bytes()

    replaced = app_client.put("/api/v1/recognition/rules", json=json.loads(edited(without_life_saving)))
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == before["version"] + 1 and replaced.json()["digest"] != before["digest"]
    assert recognition.current_rules().digest == replaced.json()["digest"]
    assert app_client.get("/api/v1/recognition/rules").json()["rules"]["cues"] == replaced.json()["rules"]["cues"]
    audit = app_client.get("/api/v1/audit", params={"action": "rules.replace"}).json()
    assert any(event["details"]["digest"] == replaced.json()["digest"] for event in audit)


def test_a_file_broken_by_hand_keeps_the_last_good_rules(rules_file):
    good = recognition.current_rules()
    rules_file.write_text("{ broken by hand")
    assert recognition.current_rules().digest == good.digest


def test_rescore_clip_stores_scores_highlights_and_queue_priority(app, rules_file):
    clip_id = make_ready_clip(app)
    with session_scope() as session:
        assert recognition.rescore_clip(session, clip_id, recognition.current_rules())
    with session_scope() as session:
        clip = session.get(Clip, clip_id)
        public = clip_public(session, clip)
        priority = session.exec(select(ReviewItem.priority).where(ReviewItem.clip_id == clip_id)).one()
        found = search(session, "AED", restrict_to_badge="9001")  # never indexed before: it is now
    assert clip.rules_digest == recognition.current_rules().digest
    assert set(public.suggested_categories) == {"de-escalation", "life-saving"}
    assert {"life-saving", "de-escalation"} == {h.category for h in public.highlights}
    assert priority == public.score == clip.recognition_score > 0.5
    assert [r.clip.id for r in found.results] == [clip_id]
    aed = next(w for w in SPOKEN["segments"][2]["words"] if w["word"].startswith("AED"))
    assert found.results[0].hits[0].at == aed["start"], "a hit opens the clip at its word, not its segment"


def test_the_rescore_job_reaches_every_stale_clip_and_no_other(app, rules_file):
    from workers.tasks import rescore_stale_clips

    old = recognition.current_rules()
    stale = [make_ready_clip(app, digest=old.digest) for _ in range(3)]
    new = recognition.replace_rules(edited(without_life_saving))
    with session_scope() as session:
        assert recognition.rescore_needed(session, new.digest)
        assert set(stale) <= set(recognition.stale_clip_ids(session, new.digest, limit=10_000))
    assert rescore_stale_clips() >= 3
    with session_scope() as session:
        assert not recognition.rescore_needed(session, new.digest)
        for clip_id in stale:
            clip = session.get(Clip, clip_id)
            assert clip.rules_digest == new.digest and clip.recognition["rules_version"] == new.version
            assert clip.recognition["suggested_categories"] == ["de-escalation"]
    assert rescore_stale_clips() == 0


def test_the_worker_enqueues_the_rescore_once_per_edit(app, rules_file):
    from workers.tasks import huey  # the queue the tasks are registered with (tests may reset get_huey)
    from workers.worker import RulesWatch

    def queued() -> int:
        return sum(task.name == "clips.rescore" for task in huey.pending())

    make_ready_clip(app, digest="an-older-digest")
    watch, before = RulesWatch(), queued()
    watch.check()
    watch.check()  # the same digest again: nothing more
    assert queued() == before + 1
    recognition.replace_rules(edited(without_life_saving))
    watch.check()
    assert queued() == before + 2
