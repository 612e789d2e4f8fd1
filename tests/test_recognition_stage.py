"""The recognize stage in the real pipeline (`bestpart serve` + worker, real Whisper), the clip JSON
it fills, the search index it feeds, and the background re-score after an edit of the rules."""

import json
import shutil

import pytest
from sqlmodel import Session, create_engine

from api.recognition import DEFAULT_RULES_PATH
from api.search.service import search
from tests.services import backend_env, running_service, upload, wait_settled, wait_until


@pytest.fixture(scope="module", params=["sqlite", "postgres+redis"])
def service(request, tmp_path_factory):
    data = tmp_path_factory.mktemp("recognize-" + request.param.replace("+", "-"))
    rules = data / "edited-rules.json"
    shutil.copy(DEFAULT_RULES_PATH, rules)
    env = {
        **backend_env(request.param, data),
        "BESTPART_RULES_PATH": str(rules),
        "BESTPART_STAGE_LEASE_SECONDS": "2",
    }  # the reconciler (and its rules check) every second
    with running_service(env, data / "serve.log") as client:
        yield client, env, rules


@pytest.fixture(scope="module")
def recognized(service, fixtures) -> dict:
    client, _, _ = service
    response = upload(client, fixtures / "speech.mp4", evidence_id="EV-RECOGNIZE-1")
    assert response.status_code == 201, response.text
    return wait_settled(client, response.json()["id"], timeout=180)


def test_recognize_runs_after_the_transcript_and_the_clip_is_ready(recognized):
    assert recognized["status"] == "ready", recognized
    stages = {s["name"]: s["state"] for s in recognized["stages"]}
    assert stages == dict.fromkeys(["probe", "thumbnails", "proxy", "transcript", "recognize"], "done")


def test_the_clip_json_has_highlights_at_the_spoken_moments(recognized):
    # speech.txt: "Good evening, my name is Officer Daniel Reyes. I stopped you because ... Take a
    # deep breath, you are not in trouble. I can call a medic if you need one." (from 1.5 s)
    highlights = {h["cue"]: h for h in recognized["highlights"]}
    assert {"deesc.introduction", "deesc.calming", "deesc.reassurance"} <= set(highlights)
    calming = highlights["deesc.calming"]
    assert [w.strip(",.").lower() for w in calming["words"]] == ["take", "a", "deep", "breath"]
    assert 1.5 < highlights["deesc.introduction"]["start"] < calming["start"] < highlights["deesc.reassurance"]["start"]
    assert calming["end"] < recognized["media"]["duration"] and 0 < calming["confidence"] <= 1
    assert calming["uncertain"] is False
    assert recognized["suggested_categories"] == ["de-escalation"]
    assert recognized["category_scores"]["de-escalation"] >= 0.5 > recognized["category_scores"]["community-engagement"]
    assert recognized["score"] == pytest.approx(recognized["category_scores"]["de-escalation"], abs=1e-3)
    assert recognized["rules_version"] == json.loads(DEFAULT_RULES_PATH.read_text())["version"]


def test_the_transcript_is_searchable_with_the_second_to_jump_to(service, recognized):
    _, env, _ = service
    engine = create_engine(env.get("BESTPART_DATABASE_URL") or f"sqlite:///{env['BESTPART_DATA_DIR']}/bestpart.db")
    try:
        with Session(engine) as session:
            (result,) = search(session, "deep breath").results
            (evidence,) = search(session, "EV-RECOGNIZE-1").results
    finally:
        engine.dispose()
    assert result.clip.id == evidence.clip.id == recognized["id"]
    hit = result.hits[0]
    calming = next(h for h in recognized["highlights"] if h["cue"] == "deesc.calming")
    assert hit.kind == "transcript" and "<mark>deep</mark>" in hit.snippet
    assert calming["start"] < hit.at < calming["end"], "the hit opens the clip at 'deep', inside the cue"
    assert result.clip.suggested_categories == ["de-escalation"]


def test_an_edit_of_the_rules_rescores_ready_clips_in_the_background(service, recognized):
    client, _, rules_file = service
    rules = json.loads(rules_file.read_text())
    rules["version"] += 1
    rules["cues"] = [cue for cue in rules["cues"] if cue["id"] != "deesc.calming"]
    rules_file.write_text(json.dumps(rules))

    def rescored():
        clip = client.get(f"/api/v1/clips/{recognized['id']}").json()
        return clip if clip["rules_version"] == rules["version"] else None

    clip = wait_until(rescored, 60, "the clip was not re-scored after the rules changed")
    cues = {h["cue"] for h in clip["highlights"]}
    assert "deesc.calming" not in cues and {"deesc.introduction", "deesc.reassurance"} <= cues
    assert clip["category_scores"]["de-escalation"] < recognized["category_scores"]["de-escalation"]
    assert clip["status"] == "ready" and clip["ready_at"] == recognized["ready_at"]
