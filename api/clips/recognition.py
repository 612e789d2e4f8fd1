"""A clip's recognition: the cue detector over its transcript, stored on the clip, and re-scored
when the rules file changes. Services never commit: the stage or the job owns the transaction.

The rules in force: the file at BESTPART_RULES_PATH (default DATA_DIR/rules.json) once it exists,
written by an admin (replace_rules) or by hand; until then the packaged api/recognition/rules.json.
A clip stores the digest of the rules that scored it, so an edit finds every clip to re-score
without a version bump.
"""

import hashlib
import json
import logging
import os
import threading
import uuid
from pathlib import Path

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from api.clips import transcripts
from api.clips.models import Clip, ClipStatus
from api.config import get_settings
from api.core.types import saved_ids
from api.recognition import (
    DEFAULT_RULES_PATH,
    Recognition,
    Rules,
    RulesError,
    detect,
    load_rules,
    parse_rules,
)
from api.review.models import ReviewItem
from api.search.service import index_clip

log = logging.getLogger("bestpart.recognition")
RESCORE_BATCH = 200

_loaded: dict = {}
_loaded_lock = threading.Lock()


def rules_path() -> Path:
    """The edited rules once there are any (at BESTPART_RULES_PATH, or in DATA_DIR), else the packaged ones."""
    edited = get_settings().editable_rules_path
    return edited if edited.exists() else DEFAULT_RULES_PATH


def current_rules() -> Rules:
    """The rules in force, read again whenever the file changes. A file broken by a hand edit is
    logged and the last good rules stay in force, so one typo doesn't fail every clip."""
    path = rules_path()
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _loaded_lock:
        if _loaded.get("key") != key:
            try:
                _loaded["rules"] = load_rules(path)
            except RulesError:
                if "rules" not in _loaded:
                    raise
                log.exception("keeping the rules last read (digest %s)", _loaded["rules"].digest[:12])
            _loaded["key"] = key
        return _loaded["rules"]


def replace_rules(text: str) -> Rules:
    """Check an edited rules file and put it in force atomically; RulesError says what is wrong.
    Workers notice the new digest and re-score every ready clip in the background."""
    path = get_settings().editable_rules_path
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RulesError(f"rules file: not valid JSON ({exc})") from exc
    raw = text.encode("utf-8")
    rules = parse_rules(data, source=str(path), digest=hashlib.sha256(raw).hexdigest())
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(temp, "wb") as f:
        f.write(raw)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)  # readers see the old file or the new one, never half of one
    return rules


def store_recognition(session: Session, clip_id: int, found: Recognition, rules: Rules) -> None:
    """Keep the result on the clip; its score orders the review queue."""
    session.execute(
        update(Clip)
        .where(col(Clip.id) == clip_id)
        .values(recognition=found.to_dict(), recognition_score=round(found.score, 6), rules_digest=rules.digest)
    )
    session.execute(update(ReviewItem).where(col(ReviewItem.clip_id) == clip_id).values(priority=round(found.score, 6)))


def save_recognition(session: Session, clip_id: int, found: Recognition, rules: Rules, transcript: dict) -> None:
    """Store what the detector found and (re)build the clip's search documents, transcript included."""
    store_recognition(session, clip_id, found, rules)
    clip = session.get(Clip, clip_id)
    if clip is not None:
        index_clip(session, clip, transcript)


def rescore_clip(session: Session, clip_id: int, rules: Rules) -> bool:
    """Score one clip again with these rules. A clip from before recognition existed (no digest) is
    recognized and indexed for the first time. False if the clip is gone."""
    clip = session.get(Clip, clip_id)
    if clip is None:
        return False
    transcript = transcripts.read(session, clip_id)
    if transcript is None:  # a ready clip always has one; score it as silent rather than retry forever
        log.warning("clips.rescore clip=%s has no transcript; scored as empty", clip_id)
        transcript = {"segments": []}
    found = detect(transcript, rules)
    if clip.rules_digest is None:
        save_recognition(session, clip_id, found, rules, transcript)
    else:  # the words are indexed already; only the scores change
        store_recognition(session, clip_id, found, rules)
    return True


def stale_clip_ids(session: Session, digest: str, after_id: int = 0, limit: int = RESCORE_BATCH) -> list[int]:
    """Ready clips scored by other rules (or never), in id order from after_id: a job walks them in
    batches and always moves forward, even past a clip it could not score."""
    return saved_ids(
        session.exec(
            select(col(Clip.id))
            .where(
                col(Clip.status) == ClipStatus.READY,
                col(Clip.id) > after_id,
                or_(col(Clip.rules_digest).is_(None), col(Clip.rules_digest) != digest),
            )
            .order_by(col(Clip.id))
            .limit(limit)
        )
    )


def rescore_needed(session: Session, digest: str) -> bool:
    return bool(stale_clip_ids(session, digest, limit=1))
