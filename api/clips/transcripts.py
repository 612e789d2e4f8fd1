"""A clip's transcript as people should read it: transcript.json (what Whisper heard and who the
clustering said spoke) with the reviewers' speaker corrections applied. The one reader: the API,
the pages, recognition, search and lesson exports all read through `read`.

Services never commit: the request owns the transaction.
"""

import json
import re

import numpy as np
from sqlmodel import Session, select

from api.clips.models import Clip, SpeakerCorrection, Voiceprint, utcnow
from api.clips.service import find_asset, get_store
from api.errors import ServiceError

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
    corrections = session.exec(select(SpeakerCorrection).where(SpeakerCorrection.clip_id == clip_id)
                               .order_by(SpeakerCorrection.id)).all()
    return {c.segment: c for c in corrections}  # the latest per segment wins


def apply_corrections(transcript: dict, corrections: dict[int, SpeakerCorrection]) -> dict:
    for index, correction in corrections.items():
        segments = transcript.get("segments") or []
        if 0 <= index < len(segments):
            segment = segments[index]
            segment.update(speaker=correction.speaker, speaker_confidence=1.0, corrected=True)
            for word in segment.get("words") or []:
                word["speaker"] = correction.speaker
    return transcript


def correct_speaker(session: Session, clip: Clip, segment: int, speaker: str, user_id: int | None) -> dict:
    """Record a reviewer's correction of one segment's speaker; refine the officer's voiceprint with
    the voice the clustering heard there. Returns the corrected transcript (the caller audits and
    re-scores)."""
    speaker = speaker.strip().lower()
    if not SPEAKER.match(speaker):
        raise ServiceError(422, f"speaker must be 'officer' or 'person N', not {speaker!r}")
    recorded = read_recorded(session, clip.id)
    if recorded is None:
        raise ServiceError(409, "the transcript is not ready yet")
    segments = recorded.get("segments") or []
    if not 0 <= segment < len(segments):
        raise ServiceError(404, f"the transcript has segments 0 to {len(segments) - 1}, not {segment}")
    corrections = latest_corrections(session, clip.id)
    previous = corrections[segment].speaker if segment in corrections else segments[segment].get("speaker")
    session.add(SpeakerCorrection(clip_id=clip.id, segment=segment, speaker=speaker,
                                  previous=previous, user_id=user_id))
    if speaker == OFFICER and clip.badge_number:
        heard_as = segments[segment].get("speaker")
        centroid = _centroid(recorded, heard_as)
        if centroid is not None:
            enroll_voice(session, clip.badge_number, centroid)
    session.flush()
    return read(session, clip.id)


def _centroid(transcript: dict, speaker: str | None) -> np.ndarray | None:
    for entry in transcript.get("speakers") or []:
        if entry.get("speaker") == speaker and entry.get("centroid"):
            return np.asarray(entry["centroid"], dtype=np.float32)
    return None


def voiceprint(session: Session, badge_number: str | None) -> np.ndarray | None:
    """The officer's enrolled voice, if any."""
    if not badge_number:
        return None
    found = session.get(Voiceprint, badge_number)
    return np.asarray(found.embedding, dtype=np.float32) if found else None


def enroll_voice(session: Session, badge_number: str, centroid: np.ndarray) -> None:
    """Fold one clip's officer voice into the badge's voiceprint (a running mean of embeddings)."""
    found = session.get(Voiceprint, badge_number)
    merged = centroid if found is None else np.asarray(found.embedding) * found.clips + centroid
    embedding = [round(float(x), 5) for x in merged / max(float(np.linalg.norm(merged)), 1e-9)]
    if found:
        found.embedding, found.clips, found.updated_at = embedding, found.clips + 1, utcnow()
        session.add(found)
    else:
        session.add(Voiceprint(badge_number=badge_number, embedding=embedding, clips=1))
