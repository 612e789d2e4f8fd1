"""The redaction of a lesson item: what a detection found in its segment (face tracks, spoken PII),
what reviewers changed (tracks kept or blurred, regions drawn, words bleeped or spared), and who
approved it. An export renders only from an approved redaction; any change after the approval
voids it (audited). Services never commit; jobs are sent after the commit.

The detection runs as a worker job (`lesson.redaction.detect`, workers/redaction.py) on the
item's segment of its clip's proxy; the export renders the same segment of the same proxy with the
same settings, so the tracker numbers the tracks the same way and a kept track is the face the
reviewer chose (the export checks that it is).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col, select

from api.audit.service import SYSTEM, Actor, record
from api.clips import transcripts
from api.clips.models import Clip
from api.clips.service import MEDIA_URL, find_asset, get_store
from api.core.errors import Conflict, Forbidden, Invalid, NotFound
from api.core.types import saved_id, utcnow
from api.curriculum.models import (
    DetectionState,
    LessonItem,
    Redaction,
    RedactionStatus,
    RedactionTrack,
    RedactionWord,
    TrackAction,
    TrackKind,
    WordOrigin,
)
from api.curriculum.schemas import (
    KeepReason,
    KeyframesIn,
    ManualTrackIn,
    PreviewIn,
    RedactionPublic,
    TrackEdit,
    TrackPublic,
    WordPublic,
    WordsIn,
)
from api.db import enqueue_after_commit
from api.redaction.settings import get_redaction_settings

DETECT_JOB = "lesson.redaction.detect"
PREVIEW_JOB = "lesson.redaction.preview"
SEGMENT_TOLERANCE = 0.001  # seconds
OVERLAY_EVERY = 3  # frames: a detected track's boxes are kept for the editor's overlay this often
PREVIEW_URL = "/api/v1/lessons/{lesson_id}/items/{item_id}/redaction/preview.mp4"


def redaction_of(session: Session, item_id: int) -> Redaction | None:
    return session.exec(select(Redaction).where(Redaction.item_id == item_id)).first()


def _item(session: Session, lesson_id: int, item_id: int) -> LessonItem:
    item = session.get(LessonItem, item_id)
    if item is None or item.lesson_id != lesson_id:
        raise NotFound(f"lesson {lesson_id} has no item {item_id}")
    return item


def get_redaction(session: Session, lesson_id: int, item_id: int) -> tuple[LessonItem, Redaction]:
    item = _item(session, lesson_id, item_id)
    redaction = redaction_of(session, item_id)
    if redaction is None:
        raise NotFound(f"item {item_id} has no redaction yet: start its detection (POST …/redaction/detect)")
    return item, redaction


def tracks_of(session: Session, redaction_id: int) -> list[RedactionTrack]:
    return list(
        session.exec(
            select(RedactionTrack)
            .where(RedactionTrack.redaction_id == redaction_id)
            .order_by(col(RedactionTrack.kind), col(RedactionTrack.track_no), col(RedactionTrack.id))
        )
    )


def words_of(session: Session, redaction_id: int) -> list[RedactionWord]:
    return list(
        session.exec(
            select(RedactionWord)
            .where(RedactionWord.redaction_id == redaction_id)
            .order_by(col(RedactionWord.start), col(RedactionWord.id))
        )
    )


def is_stale(item: LessonItem, redaction: Redaction) -> bool:
    """The item's segment is not the one the detection ran on."""
    if redaction.in_point is None or redaction.out_point is None:
        return False
    return (
        abs(item.in_point - redaction.in_point) > SEGMENT_TOLERANCE
        or abs(item.out_point - redaction.out_point) > SEGMENT_TOLERANCE
    )


def redaction_public(session: Session, item: LessonItem, redaction: Redaction) -> RedactionPublic:
    done_preview = redaction.preview_state == DetectionState.DONE and redaction.preview_path
    return RedactionPublic(
        **redaction.model_dump(exclude={"id", "item_id"}),
        id=redaction.id,
        item_id=item.id,
        lesson_id=item.lesson_id,
        clip_id=item.clip_id,
        stale=is_stale(item, redaction),
        self_approval=get_redaction_settings().redaction_self_approval,
        tracks=[TrackPublic.model_validate(t, from_attributes=True) for t in tracks_of(session, saved_id(redaction))],
        words=[WordPublic.model_validate(w, from_attributes=True) for w in words_of(session, saved_id(redaction))],
        proxy_url=MEDIA_URL.format(id=item.clip_id, name="proxy.mp4"),
        preview_url=PREVIEW_URL.format(lesson_id=item.lesson_id, item_id=item.id) if done_preview else None,
    )


# --- starting and re-running the detection -------------------------------------------------------


def start_detection(session: Session, actor: Actor, item: LessonItem) -> Redaction:
    """Create the item's redaction, or send an existing one back to detection (a new version: an
    approval is voided), and queue the detection job after the commit."""
    redaction = redaction_of(session, saved_id(item))
    if redaction is None:
        redaction = Redaction(item_id=saved_id(item))
        _add_editor(redaction, actor)
        session.add(redaction)
        session.flush()
        record(
            session,
            actor,
            "lesson_item.redaction.create",
            object_type="lesson_item",
            object_id=item.id,
            details={"redaction": redaction.id, "clip": item.clip_id, "in": item.in_point, "out": item.out_point},
        )
    else:
        redaction.detection, redaction.detection_error = DetectionState.QUEUED, None
        _changed(session, actor, item, redaction, "detect", {"in": item.in_point, "out": item.out_point})
    enqueue_after_commit(session, DETECT_JOB, redaction.id)
    return redaction


def request_detection(session: Session, actor: Actor, lesson_id: int, item_id: int) -> tuple[LessonItem, Redaction]:
    item = _item(session, lesson_id, item_id)
    redaction = redaction_of(session, item_id)
    if redaction is not None and redaction.detection in (DetectionState.QUEUED, DetectionState.RUNNING):
        raise Conflict(f"the detection of item {item_id} is {redaction.detection.value} already")
    return item, start_detection(session, actor, item)


# --- edits: each one a new version, audited; an approval does not survive it -------------------


def _add_editor(redaction: Redaction, actor: Actor) -> None:
    who = {"id": actor.user_id, "name": actor.name}
    if who not in redaction.editors:
        redaction.editors = [*redaction.editors, who]


def _changed(
    session: Session, actor: Actor, item: LessonItem, redaction: Redaction, action: str, details: dict
) -> None:
    """Record an edit: a new version, the editor among those who prepared it, the approval voided."""
    if redaction.status == RedactionStatus.APPROVED:
        record(
            session,
            actor,
            "lesson_item.redaction.approval_voided",
            object_type="lesson_item",
            object_id=item.id,
            details={
                "redaction": redaction.id,
                "approved_version": redaction.approved_version,
                "approved_by": redaction.approved_by_name,
                "by_edit": action,
            },
        )
        redaction.status = RedactionStatus.DRAFT
        redaction.approved_by_id = redaction.approved_by_name = redaction.approved_at = None
        redaction.approved_version = None
    redaction.version += 1
    _add_editor(redaction, actor)
    at = utcnow()
    redaction.edits = [
        *redaction.edits,
        {"version": redaction.version, "at": at.isoformat(timespec="seconds"), "by": actor.name, "action": action}
        | details,
    ]
    redaction.updated_at = at
    session.add(redaction)
    session.flush()
    record(
        session,
        actor,
        f"lesson_item.redaction.{action}",
        object_type="lesson_item",
        object_id=item.id,
        details={"redaction": redaction.id, "version": redaction.version, **details},
    )


def _ready_to_edit(item: LessonItem, redaction: Redaction) -> None:
    if redaction.detection != DetectionState.DONE:
        raise Conflict(f"the detection of item {item.id} is {redaction.detection.value}; edit once it is done")


def _track(session: Session, redaction: Redaction, track_id: int) -> RedactionTrack:
    track = session.get(RedactionTrack, track_id)
    if track is None or track.redaction_id != redaction.id:
        raise NotFound(f"the redaction of item {redaction.item_id} has no track {track_id}")
    return track


def _within(item: LessonItem, t: float) -> None:
    if not item.in_point - SEGMENT_TOLERANCE <= t <= item.out_point + SEGMENT_TOLERANCE:
        raise Invalid(f"a keyframe at {t} s lies outside the segment [{item.in_point}, {item.out_point}]")


def edit_track(
    session: Session, actor: Actor, lesson_id: int, item_id: int, track_id: int, body: TrackEdit
) -> RedactionTrack:
    """Blur a track, or keep a detected face visible with its reason (the featured officer, or a
    community member who consented, with the consent recorded)."""
    item, redaction = get_redaction(session, lesson_id, item_id)
    _ready_to_edit(item, redaction)
    track = _track(session, redaction, track_id)
    if body.action == TrackAction.KEEP:
        if track.kind == TrackKind.MANUAL:
            raise Invalid("a drawn region is always blurred: delete it instead of keeping it")
        if body.keep_reason is None:
            raise Invalid("keeping a face visible needs a reason: featured_officer or consent")
        note = (body.keep_note or "").strip()
        if body.keep_reason == KeepReason.CONSENT and not note:
            raise Invalid("keeping a face by consent needs the consent recorded (keep_note: who, how, where kept)")
        track.action, track.keep_reason, track.keep_note = TrackAction.KEEP, body.keep_reason.value, note or None
    else:
        track.action, track.keep_reason, track.keep_note = TrackAction.BLUR, None, None
    session.add(track)
    details = {"track": track.id, "track_no": track.track_no, "set": track.action.value}
    if track.action == TrackAction.KEEP:
        details |= {"reason": track.keep_reason, "note": track.keep_note}
    _changed(session, actor, item, redaction, "track", details)
    return track


def add_manual_track(session: Session, actor: Actor, lesson_id: int, item_id: int, body: ManualTrackIn):
    """A region a reviewer drew (a face missed, a screen, a document, a plate): always blurred,
    moving linearly between its keyframes."""
    item, redaction = get_redaction(session, lesson_id, item_id)
    _ready_to_edit(item, redaction)
    keyframes = _merged([], [k.model_dump() for k in body.keyframes], [])
    for key in keyframes:
        _within(item, key["t"])
    track = RedactionTrack(
        redaction_id=saved_id(redaction),
        kind=TrackKind.MANUAL,
        label=(body.label or "").strip() or None,
        keyframes=keyframes,
        first_time=keyframes[0]["t"],
        last_time=keyframes[-1]["t"],
    )
    session.add(track)
    session.flush()
    _changed(
        session, actor, item, redaction, "manual_add", {"track": track.id, "label": track.label, "keyframes": keyframes}
    )
    return track


def set_keyframes(session: Session, actor: Actor, lesson_id: int, item_id: int, track_id: int, body: KeyframesIn):
    """Add keyframes to a drawn region, or move one (a keyframe at an existing one's time replaces
    it), or take some out; at least one stays."""
    item, redaction = get_redaction(session, lesson_id, item_id)
    _ready_to_edit(item, redaction)
    track = _track(session, redaction, track_id)
    if track.kind != TrackKind.MANUAL:
        raise Invalid("only a drawn region has keyframes to edit; a detected track is kept or blurred")
    added = [k.model_dump() for k in body.keyframes]
    for key in added:
        _within(item, key["t"])
    keyframes = _merged(track.keyframes, added, body.remove_times)
    if not keyframes:
        raise Invalid("a drawn region needs at least one keyframe: delete the track instead")
    track.keyframes, track.first_time, track.last_time = keyframes, keyframes[0]["t"], keyframes[-1]["t"]
    session.add(track)
    _changed(
        session,
        actor,
        item,
        redaction,
        "keyframes",
        {"track": track.id, "set": added, "removed": body.remove_times, "keyframes": keyframes},
    )
    return track


def delete_manual_track(session: Session, actor: Actor, lesson_id: int, item_id: int, track_id: int) -> None:
    item, redaction = get_redaction(session, lesson_id, item_id)
    track = _track(session, redaction, track_id)
    if track.kind != TrackKind.MANUAL:
        raise Invalid("a detected track cannot be deleted; keep it (with a reason) or blur it")
    details = {"track": track.id, "label": track.label, "keyframes": track.keyframes}
    session.delete(track)
    _changed(session, actor, item, redaction, "manual_delete", details)


def _merged(existing: list[dict], added: list[dict], remove_times: list[float]) -> list[dict]:
    def key(t: float) -> float:
        return round(float(t), 3)

    by_time = {key(k["t"]): {"t": key(k["t"]), "box": list(k["box"])} for k in existing}
    for t in remove_times:
        by_time.pop(key(t), None)
    for k in added:
        by_time[key(k["t"])] = {"t": key(k["t"]), "box": [round(float(v), 2) for v in k["box"]]}
    return [by_time[t] for t in sorted(by_time)]


def toggle_word(
    session: Session, actor: Actor, lesson_id: int, item_id: int, word_id: int, bleep: bool
) -> RedactionWord:
    item, redaction = get_redaction(session, lesson_id, item_id)
    _ready_to_edit(item, redaction)
    word = session.get(RedactionWord, word_id)
    if word is None or word.redaction_id != redaction.id:
        raise NotFound(f"the redaction of item {item_id} has no word run {word_id}")
    word.bleep = bleep
    session.add(word)
    _changed(session, actor, item, redaction, "word", {"word": word.id, "text": word.text, "bleep": bleep})
    return word


def add_words(session: Session, actor: Actor, lesson_id: int, item_id: int, body: WordsIn) -> RedactionWord:
    """Mark words of the transcript to bleep (a run within one segment)."""
    item, redaction = get_redaction(session, lesson_id, item_id)
    _ready_to_edit(item, redaction)
    transcript = transcripts.read(session, item.clip_id) or {}
    segments = transcript.get("segments") or []
    if body.segment >= len(segments):
        raise Invalid(f"the transcript has no segment {body.segment}")
    words = segments[body.segment].get("words") or []
    if not body.first_word <= body.last_word < len(words):
        raise Invalid(f"segment {body.segment} has words 0..{len(words) - 1}; {body.first_word}..{body.last_word}?")
    run = words[body.first_word : body.last_word + 1]
    start, end = float(run[0]["start"]), float(run[-1]["end"])
    if end < item.in_point or start > item.out_point:
        raise Invalid(f"those words ({start}-{end} s) lie outside the segment [{item.in_point}, {item.out_point}]")
    existing = next(
        (
            w
            for w in words_of(session, saved_id(redaction))
            if (w.segment, w.first_word, w.last_word) == (body.segment, body.first_word, body.last_word)
        ),
        None,
    )
    if existing is not None:  # the same run again: bleep it
        word = existing
        word.bleep = True
    else:
        word = RedactionWord(
            redaction_id=saved_id(redaction),
            origin=WordOrigin.REVIEWER,
            kind="reviewer",
            segment=body.segment,
            first_word=body.first_word,
            last_word=body.last_word,
            start=start,
            end=end,
            text=" ".join(str(w.get("word", "")).strip() for w in run),
            speaker=run[0].get("speaker"),
        )
    session.add(word)
    session.flush()
    _changed(session, actor, item, redaction, "word_add", {"word": word.id, "text": word.text, "start": start})
    return word


# --- approval ------------------------------------------------------------------------------------


def approve(
    session: Session, actor: Actor, lesson_id: int, item_id: int, version: int | None = None
) -> tuple[LessonItem, Redaction]:
    """Approve the redaction as it stands (`version`: the one the approver looked at). A second
    person approves: not one who prepared this version, unless the self-approval setting allows."""
    item, redaction = get_redaction(session, lesson_id, item_id)
    _ready_to_edit(item, redaction)
    if is_stale(item, redaction):
        raise Conflict(f"item {item_id}'s segment changed since its detection: detect again, then approve")
    if version is not None and version != redaction.version:
        raise Conflict(f"the redaction changed (version {redaction.version}, you saw {version}): look again")
    if redaction.status == RedactionStatus.APPROVED:
        return item, redaction
    prepared_by = {e.get("id") for e in redaction.editors if e.get("id") is not None}
    if actor.user_id in prepared_by and not get_redaction_settings().redaction_self_approval:
        raise Forbidden(
            "a second person approves a redaction: you prepared this version "
            "(BESTPART_REDACTION_SELF_APPROVAL=true lets a trainer approve her own)"
        )
    redaction.status = RedactionStatus.APPROVED
    redaction.approved_by_id, redaction.approved_by_name = actor.user_id, actor.name
    redaction.approved_at, redaction.approved_version = utcnow(), redaction.version
    redaction.editors = []  # the next edit starts a new version, prepared by whoever makes it
    session.add(redaction)
    session.flush()
    record(
        session,
        actor,
        "lesson_item.redaction.approve",
        object_type="lesson_item",
        object_id=item.id,
        details={"redaction": redaction.id, "version": redaction.version, "self": actor.user_id in prepared_by},
    )
    return item, redaction


def unapproved_items(session: Session, items: list[LessonItem]) -> list[tuple[LessonItem, str]]:
    """The items an export may not render yet, each with why."""
    chosen = select(Redaction).where(col(Redaction.item_id).in_([i.id for i in items]))
    found = {r.item_id: r for r in session.exec(chosen)}
    blocked = []
    for item in items:
        redaction = found.get(saved_id(item))
        if redaction is None:
            blocked.append((item, "no redaction"))
        elif is_stale(item, redaction):
            blocked.append((item, "segment changed since its detection"))
        elif redaction.detection != DetectionState.DONE:
            blocked.append((item, f"redaction detection {redaction.detection.value}"))
        elif redaction.status != RedactionStatus.APPROVED:
            blocked.append((item, "redaction not approved"))
    return blocked


def check_approved(session: Session, items: list[LessonItem]) -> None:
    blocked = unapproved_items(session, items)
    if blocked:
        named = "; ".join(f"item {item.id}{f' ({item.title})' if item.title else ''}: {why}" for item, why in blocked)
        raise Conflict(f"every item needs an approved redaction before the lesson is exported — {named}")


# --- what the jobs need --------------------------------------------------------------------------


@dataclass(frozen=True)
class DetectionPlan:
    redaction_id: int
    item_id: int
    clip_id: int
    proxy_path: Path
    proxy_sha256: str
    in_point: float
    out_point: float
    transcript: dict | None
    officer_name: str | None
    keep_officer_name: bool


def claim_detection(session: Session, redaction_id: int) -> bool:
    taken = session.exec(
        update(Redaction)
        .where(col(Redaction.id) == redaction_id, col(Redaction.detection) == DetectionState.QUEUED)
        .values(detection=DetectionState.RUNNING, detection_error=None)
    )
    return taken.rowcount == 1


def detection_plan(session: Session, redaction_id: int) -> DetectionPlan | None:
    redaction = session.get(Redaction, redaction_id)
    item = session.get(LessonItem, redaction.item_id) if redaction else None
    if redaction is None or item is None:
        return None
    proxy = find_asset(session, item.clip_id, "proxy.mp4")
    if proxy is None:
        raise Conflict(f"clip {item.clip_id} has no proxy yet to detect faces in")
    return DetectionPlan(
        saved_id(redaction),
        saved_id(item),
        item.clip_id,
        get_store().absolute(proxy.path),
        proxy.sha256,
        item.in_point,
        item.out_point,
        transcripts.read(session, item.clip_id),
        _officer_name(session, item.clip_id),
        not get_redaction_settings().redaction_remove_officer_name,
    )


def _officer_name(session: Session, clip_id: int) -> str | None:
    from api.users.service import officer

    clip = session.get(Clip, clip_id)
    found = officer(session, clip.badge_number) if clip and clip.badge_number else None
    return found.name if found else None


@dataclass
class DetectedTrack:
    track_no: int
    keyframes: list[dict]
    first_time: float | None
    last_time: float | None
    first_detected_frame: int | None
    last_detected_frame: int | None
    detections: int


@dataclass
class DetectedWords:
    kind: str
    segment: int
    first_word: int
    last_word: int
    start: float
    end: float
    text: str
    speaker: str | None


@dataclass
class DetectionResult:
    in_point: float
    out_point: float
    proxy_sha256: str
    detector: dict
    settings: dict
    frame_rate: str
    width: int
    height: int
    tracks: list[DetectedTrack] = field(default_factory=list)
    words: list[DetectedWords] = field(default_factory=list)


def finish_detection(session: Session, redaction_id: int, result: DetectionResult) -> bool:
    """Replace the detected tracks and words (a reviewer's own regions and words stay); False when
    the redaction is gone or its segment changed meanwhile (a newer detection is queued)."""
    redaction = session.get(Redaction, redaction_id)
    item = session.get(LessonItem, redaction.item_id) if redaction else None
    if redaction is None or item is None or redaction.detection != DetectionState.RUNNING:
        return False
    for old_track in tracks_of(session, redaction_id):
        if old_track.kind == TrackKind.DETECTED:
            session.delete(old_track)
    for old_words in words_of(session, redaction_id):
        if old_words.origin == WordOrigin.DETECTED:
            session.delete(old_words)
    session.flush()
    for track in result.tracks:
        session.add(RedactionTrack(redaction_id=redaction_id, kind=TrackKind.DETECTED, **track.__dict__))
    for words in result.words:
        session.add(RedactionWord(redaction_id=redaction_id, origin=WordOrigin.DETECTED, **words.__dict__))
    redaction.detection, redaction.detection_error, redaction.detected_at = DetectionState.DONE, None, utcnow()
    redaction.in_point, redaction.out_point, redaction.proxy_sha256 = (
        result.in_point,
        result.out_point,
        result.proxy_sha256,
    )
    redaction.detector, redaction.settings = result.detector, result.settings
    redaction.frame_rate, redaction.width, redaction.height = result.frame_rate, result.width, result.height
    session.add(redaction)
    session.flush()
    record(
        session,
        SYSTEM,
        "lesson_item.redaction.detected",
        object_type="lesson_item",
        object_id=item.id,
        details={
            "redaction": redaction.id,
            "version": redaction.version,
            "tracks": len(result.tracks),
            "words": len(result.words),
            "detector": (result.detector or {}).get("name"),
        },
    )
    return True


def fail_detection(session: Session, redaction_id: int, reason: str) -> None:
    redaction = session.get(Redaction, redaction_id)
    if redaction is None:
        return
    redaction.detection, redaction.detection_error = DetectionState.FAILED, reason[:1000]
    session.add(redaction)
    session.flush()
    record(
        session,
        SYSTEM,
        "lesson_item.redaction.detected",
        object_type="lesson_item",
        object_id=redaction.item_id,
        outcome="failure",
        details={"redaction": redaction.id, "reason": reason[:1000]},
    )


@dataclass(frozen=True)
class RenderPlan:
    """An item's redaction as the renderer takes it, with the provenance the manifest records."""

    redaction_id: int
    version: int
    keep_track_nos: frozenset[int]
    expected_tracks: dict[int, tuple[int | None, int | None]]  # track_no: first/last detected frame
    manual_tracks: tuple[tuple[str, tuple[tuple[float, tuple[float, float, float, float]], ...]], ...]
    bleeps: tuple[tuple[float, float], ...]
    bleep_words: tuple[tuple[int, int, int], ...]  # (segment, first word, last word)
    provenance: dict


def render_plan(session: Session, item: LessonItem, approved_only: bool = True) -> RenderPlan:
    redaction = redaction_of(session, saved_id(item))
    if redaction is None or redaction.detection != DetectionState.DONE:
        raise Conflict(f"item {item.id} has no finished redaction")
    if approved_only and (redaction.status != RedactionStatus.APPROVED or is_stale(item, redaction)):
        raise Conflict(f"the redaction of item {item.id} is not approved")
    redaction_id = saved_id(redaction)
    tracks = tracks_of(session, redaction_id)
    words = [w for w in words_of(session, redaction_id) if w.bleep]
    detected = [t for t in tracks if t.kind == TrackKind.DETECTED]
    # (track_no, track): a detected track always has the tracker's number (finish_detection)
    numbered = [(t.track_no, t) for t in detected if t.track_no is not None]
    manual = [t for t in tracks if t.kind == TrackKind.MANUAL]
    provenance = {
        "redaction_id": redaction.id,
        "version": redaction.version,
        "status": redaction.status.value,
        "approved_by": redaction.approved_by_name,
        "approved_at": redaction.approved_at.isoformat(timespec="seconds") if redaction.approved_at else None,
        "detected_at": redaction.detected_at.isoformat(timespec="seconds") if redaction.detected_at else None,
        "detector": redaction.detector,
        "thresholds": redaction.settings,
        "faces": [
            {"track": t.track_no, "action": t.action.value, "keep_reason": t.keep_reason, "keep_note": t.keep_note}
            for t in detected
        ],
        "manual_regions": [{"label": t.label, "keyframes": t.keyframes} for t in manual],
        "bleeped_words": [
            {"kind": w.kind, "origin": w.origin.value, "start": w.start, "end": w.end, "speaker": w.speaker}
            for w in words
        ],
        "spared_words": [
            {"kind": w.kind, "start": w.start, "end": w.end} for w in words_of(session, redaction_id) if not w.bleep
        ],
        "edits": redaction.edits,
    }
    return RenderPlan(
        redaction_id=redaction_id,
        version=redaction.version,
        keep_track_nos=frozenset(no for no, t in numbered if t.action == TrackAction.KEEP),
        expected_tracks={no: (t.first_detected_frame, t.last_detected_frame) for no, t in numbered},
        manual_tracks=tuple(
            (t.label or "", tuple((k["t"], tuple(k["box"])) for k in t.keyframes)) for t in manual if t.keyframes
        ),
        bleeps=tuple((w.start, w.end) for w in words),
        bleep_words=tuple((w.segment, w.first_word, w.last_word) for w in words),
        provenance=provenance,
    )


# --- preview -------------------------------------------------------------------------------------


def request_preview(session: Session, actor: Actor, lesson_id: int, item_id: int, body: PreviewIn) -> Redaction:
    item, redaction = get_redaction(session, lesson_id, item_id)
    _ready_to_edit(item, redaction)
    limit = get_redaction_settings().redaction_preview_seconds
    if not item.in_point - SEGMENT_TOLERANCE <= body.start < item.out_point:
        raise Invalid(f"a preview starts within the segment [{item.in_point}, {item.out_point}]")
    if redaction.preview_state in (DetectionState.QUEUED, DetectionState.RUNNING):
        raise Conflict("a preview is being rendered already")
    redaction.preview_state, redaction.preview_error = DetectionState.QUEUED, None
    redaction.preview_start = round(body.start, 3)
    redaction.preview_end = round(min(item.out_point, body.start + min(body.seconds, limit)), 3)
    redaction.preview_version = redaction.version
    session.add(redaction)
    session.flush()
    record(
        session,
        actor,
        "lesson_item.redaction.preview",
        object_type="lesson_item",
        object_id=item.id,
        details={"redaction": redaction.id, "start": redaction.preview_start, "end": redaction.preview_end},
    )
    enqueue_after_commit(session, PREVIEW_JOB, redaction.id)
    return redaction


def claim_preview(session: Session, redaction_id: int) -> bool:
    taken = session.exec(
        update(Redaction)
        .where(col(Redaction.id) == redaction_id, col(Redaction.preview_state) == DetectionState.QUEUED)
        .values(preview_state=DetectionState.RUNNING)
    )
    return taken.rowcount == 1


def finish_preview(session: Session, redaction_id: int, relative_path: str | None, error: str | None = None) -> None:
    redaction = session.get(Redaction, redaction_id)
    if redaction is None:
        return
    redaction.preview_state = DetectionState.FAILED if error else DetectionState.DONE
    redaction.preview_path, redaction.preview_error = relative_path, (error or None) and error[:1000]
    session.add(redaction)
    session.flush()


def preview_file(session: Session, actor: Actor, lesson_id: int, item_id: int) -> Path:
    item, redaction = get_redaction(session, lesson_id, item_id)
    if redaction.preview_state != DetectionState.DONE or not redaction.preview_path:
        raise NotFound(f"item {item_id} has no preview render")
    path = get_store().absolute(redaction.preview_path)
    if not path.is_file():
        raise NotFound(f"the preview of item {item_id} is gone; render it again")
    record(
        session,
        actor,
        "lesson_item.redaction.preview.view",
        object_type="lesson_item",
        object_id=item.id,
        details={"redaction": redaction.id, "version": redaction.preview_version},
    )
    return path


@dataclass(frozen=True)
class PreviewJob:
    proxy_path: Path
    start: float
    end: float
    plan: RenderPlan
    lesson_title: str
    requested_by: str
    requested_at: datetime


def preview_job(session: Session, redaction_id: int) -> PreviewJob | None:
    from api.curriculum.models import Lesson

    redaction = session.get(Redaction, redaction_id)
    item = session.get(LessonItem, redaction.item_id) if redaction else None
    if redaction is None or item is None or redaction.preview_start is None or redaction.preview_end is None:
        return None  # request_preview sets the start and the end together
    proxy = find_asset(session, item.clip_id, "proxy.mp4")
    if proxy is None:
        raise Conflict(f"clip {item.clip_id} has no proxy to render from")
    lesson = session.get(Lesson, item.lesson_id)
    who = redaction.edits[-1]["by"] if redaction.edits else (redaction.editors or [{"name": "reviewer"}])[0]["name"]
    return PreviewJob(
        get_store().absolute(proxy.path),
        redaction.preview_start,
        redaction.preview_end,
        render_plan(session, item, approved_only=False),
        lesson.title if lesson else "",
        who,
        utcnow(),
    )
