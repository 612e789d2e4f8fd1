"""A reviewer corrects who spoke: the correction persists, is audited, re-scores the clip (officer cues
count on officer speech only) and refines the officer's voiceprint. Real SQLite, the in-process app."""

import numpy as np

from api.clips.models import Voiceprint
from api.db import session_scope
from tests.accounts import bearer, make_user
from tests.recognition.test_detector import transcript
from tests.recognition.test_rescore import make_ready_clip


def heard_as(speaker: str, *lines: str) -> dict:
    """A transcript whose every word the clustering gave to `speaker`, with that voice's centroid."""
    result = transcript(*lines)
    for segment in result["segments"]:
        segment.update(speaker=speaker, speaker_confidence=0.4)
        for word in segment["words"]:
            word["speaker"] = speaker
    voice = np.zeros(256)
    voice[7] = 1.0
    result["speakers"] = [{"speaker": speaker, "seconds": 9.0, "loudness_db": -20.0, "centroid": voice.tolist()}]
    return result


CALMING = (
    "You're safe now. I hear you, take a deep breath, nobody's going to hurt you.",
    "I understand, that must be so frustrating. We'll get this sorted out.",
)


def test_a_speaker_correction_persists_is_audited_and_rescores(app, app_client):
    clip_id = make_ready_clip(app, heard_as("person 1", *CALMING))
    scored = app_client.get(f"/api/v1/clips/{clip_id}").json()
    assert scored.get("suggested_categories", []) == []  # the words were heard as someone else's

    answer = app_client.put(
        f"/api/v1/clips/{clip_id}/transcript/speakers", json={"segments": [0, 1], "speaker": "Officer"}
    )
    assert answer.status_code == 200, answer.text
    transcript_now = app_client.get(f"/api/v1/clips/{clip_id}/transcript").json()
    assert [(s["speaker"], s["corrected"]) for s in transcript_now["segments"]] == [("officer", True)] * 2
    assert {w["speaker"] for s in transcript_now["segments"] for w in s["words"]} == {"officer"}
    assert "centroid" not in transcript_now["speakers"][0], "embeddings stay on the server"

    rescored = app_client.get(f"/api/v1/clips/{clip_id}").json()
    assert "de-escalation" in rescored["suggested_categories"]
    assert {h["speaker"] for h in rescored["highlights"]} == {"officer"}
    audit = app_client.get("/api/v1/audit", params={"action": "clip.speaker_correct"}).json()
    assert [e["details"] for e in audit if e["object_id"] == str(clip_id)] == [
        {"segments": [0, 1], "speaker": "officer"}
    ]
    with session_scope() as session:
        voiceprint = session.get(Voiceprint, "9001")
        assert voiceprint is not None and voiceprint.embedding[7] > 0.99 and voiceprint.clips == 1
    again = app_client.put(f"/api/v1/clips/{clip_id}/transcript/speakers", json={"segments": [0], "speaker": "officer"})
    assert again.status_code == 200
    with session_scope() as session:
        assert session.get(Voiceprint, "9001").clips == 1, "a turn already the officer's teaches the voiceprint nothing"


def test_a_bad_correction_is_refused_with_the_reason(app, app_client):
    clip_id = make_ready_clip(app, heard_as("person 1", *CALMING))
    url = f"/api/v1/clips/{clip_id}/transcript/speakers"
    wrong_name = app_client.put(url, json={"segments": [0], "speaker": "the driver"})
    assert wrong_name.status_code == 422 and "officer" in wrong_name.json()["detail"]
    no_segment = app_client.put(url, json={"segments": [0, 9], "speaker": "officer"})
    assert no_segment.status_code == 404 and "segments 0 to 1" in no_segment.json()["detail"]
    assert app_client.put(url, json={"segments": [], "speaker": "officer"}).status_code == 422


def test_only_the_review_team_corrects_speakers(app, app_client):
    clip_id = make_ready_clip(app, heard_as("person 1", *CALMING))
    for roles, badge in ((("trainer",), None), (("officer",), "9001")):  # not even the recording officer
        _, token = make_user(roles=roles, badge=badge)
        refused = app_client.put(
            f"/api/v1/clips/{clip_id}/transcript/speakers",
            json={"segments": [0], "speaker": "officer"},
            headers=bearer(token),
        )
        assert refused.status_code == 403, roles


def test_a_correction_made_before_the_transcript_changed_is_not_applied(app, app_client):
    from api.clips.models import SpeakerCorrection
    from api.clips.transcripts import apply_corrections

    moved = heard_as("person 1", *CALMING)
    stale = SpeakerCorrection(
        clip_id=1, segment=1, segment_start=moved["segments"][1]["start"] + 2.0, speaker="officer"
    )
    assert apply_corrections(moved, {1: stale})["segments"][1]["speaker"] == "person 1"
