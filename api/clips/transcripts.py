"""A clip's transcript as people should read it: transcript.json (what Whisper heard and who the
clustering said spoke) with the reviewers' speaker corrections applied. The one reader: the API,
the pages, recognition, search and lesson exports all read through `read`.

Services never commit: the request owns the transaction.
"""

import json
import math
import re

from sqlmodel import Session, col, select

from api.clips.models import Clip, SpeakerCorrection, Voiceprint
from api.clips.service import find_asset, get_store
from api.core.errors import Conflict, Invalid, NotFound
from api.core.types import saved_id, utcnow

OFFICER = "officer"
SPEAKER = re.compile(r"^(officer|person [1-9][0-9]?)$")


def read(session: Session, clip_id: int) -> dict | None:
    """The transcript with corrections applied, or None before the transcript stage is done."""
    raw = read_recorded(session, clip_id)
    if raw is None:
        return None
    return apply_corrections(raw, latest_corrections(session, clip_id))


def read_recorded(session: Session, clip_id: int) -> dict | None:
    """transcript.json exactly as the pipeline recorded it."""
    asset = find_asset(session, clip_id, "transcript.json")
    if asset is None:
        return None
    return json.loads(get_store().absolute(asset.path).read_text())


def latest_corrections(session: Session, clip_id: int) -> dict[int, SpeakerCorrection]:
    corrections = session.exec(
        select(SpeakerCorrection).where(SpeakerCorrection.clip_id == clip_id).order_by(col(SpeakerCorrection.id))
    ).all()
    return {c.segment: c for c in corrections}  # the latest per segment wins


def apply_corrections(transcript: dict, corrections: dict[int, SpeakerCorrection]) -> dict:
    """The corrections on the segments they were made on: one whose segment no longer starts where it
    did (the transcript stage ran again) is left out rather than put on someone else's words."""
    segments = transcript.get("segments") or []
    for index, correction in corrections.items():
        if 0 <= index < len(segments) and abs(segments[index]["start"] - correction.segment_start) < 0.01:
            segments[index].update(speaker=correction.speaker, speaker_confidence=1.0, corrected=True)
            for word in segments[index].get("words") or []:
                word["speaker"] = correction.speaker
    return transcript


def correct_speakers(session: Session, clip: Clip, indexes: list[int], speaker: str, user_id: int | None) -> dict:
    """Record a reviewer's word on who spoke these segments (one turn); a turn newly set to the
    officer refines the officer's voiceprint with the voice the clustering heard there. Returns the
    corrected transcript (the caller audits and re-scores)."""
    speaker = speaker.strip().lower()
    if not SPEAKER.match(speaker):
        raise Invalid(f"speaker must be 'officer' or 'person N', not {speaker!r}")
    clip_id = saved_id(clip)
    recorded = read_recorded(session, clip_id)
    if recorded is None:
        raise Conflict("the transcript is not ready yet")
    segments = recorded.get("segments") or []
    if not indexes or any(not 0 <= i < len(segments) for i in indexes):
        raise NotFound(f"the transcript has segments 0 to {len(segments) - 1}, not {indexes}")
    now = apply_corrections(json.loads(json.dumps(recorded)), latest_corrections(session, clip_id))["segments"]
    for i in sorted(set(indexes)):
        session.add(
            SpeakerCorrection(
                clip_id=clip_id,
                segment=i,
                segment_start=segments[i]["start"],
                speaker=speaker,
                previous=now[i].get("speaker"),
                user_id=user_id,
            )
        )
    heard_as = {segments[i].get("speaker") for i in indexes if now[i].get("speaker") != OFFICER}
    if speaker == OFFICER and clip.badge_number and len(heard_as) == 1:
        centroid = _centroid(recorded, heard_as.pop())
        if centroid is not None:
            enroll_voice(session, clip.badge_number, centroid)
    session.flush()
    corrected = read(session, clip_id)
    if corrected is None:  # read_recorded found it above, in this transaction
        raise Conflict("the transcript is not ready yet")
    return corrected


def _centroid(transcript: dict, speaker: str | None) -> list[float] | None:
    for entry in transcript.get("speakers") or []:
        if entry.get("speaker") == speaker and entry.get("centroid"):
            return [float(x) for x in entry["centroid"]]
    return None


def voiceprint(session: Session, badge_number: str | None) -> list[float] | None:
    """The officer's enrolled voice, if any."""
    if not badge_number:
        return None
    found = session.get(Voiceprint, badge_number)
    return list(found.embedding) if found else None


def enroll_voice(session: Session, badge_number: str, centroid) -> None:
    """Fold one clip's officer voice into the badge's voiceprint (a running mean of unit embeddings,
    kept unit length). Plain Python: the web process never loads NumPy for 256 numbers."""
    found = session.get(Voiceprint, badge_number)
    previous, weight = (found.embedding, found.clips) if found else ([0.0] * len(centroid), 0)
    merged = [float(c) + p * weight for c, p in zip(centroid, previous)]
    norm = math.sqrt(sum(x * x for x in merged)) or 1.0
    embedding = [round(x / norm, 5) for x in merged]
    if found:
        found.embedding, found.clips, found.updated_at = embedding, found.clips + 1, utcnow()
        session.add(found)
    else:
        session.add(Voiceprint(badge_number=badge_number, embedding=embedding, clips=1))
