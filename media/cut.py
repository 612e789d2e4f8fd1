"""Frame-accurate cuts of a segment [in, out] from a clip, and its captions relative to the cut.

The source is the clip's browser proxy (H.264/AAC). A cut is re-encoded, never stream-copied: a
copy can only start on a keyframe, so its first seconds would belong to a moment the trainer did
not choose. `-ss` before `-i` seeks the demuxer to the keyframe before `in` (fast), and ffmpeg's
default `-accurate_seek` then decodes and drops the frames up to `in` exactly (accurate).
"""

from pathlib import Path

from media import ffmpeg
from media.errors import MediaToolError
from media.transcribe import Segment, Transcript, Word, captions_vtt

CRF = 20  # a little better than the proxy's 23: the cut is re-encoded from an already lossy source


def cut_argv(src: Path, dst: Path, in_point: float, out_point: float) -> list[str]:
    """ffmpeg argv writing [in_point, out_point] of src to dst as H.264/AAC MP4 with +faststart."""
    if not 0 <= in_point < out_point:
        raise ValueError(f"a cut needs 0 <= in < out, not [{in_point}, {out_point}]")
    return [
        *ffmpeg.base_args("error"),
        "-ss",
        _seconds(in_point),  # before -i: input seeking, made exact by accurate_seek
        *ffmpeg.input_args(src),
        "-t",
        _seconds(out_point - in_point),
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",  # `?`: a silent clip has no audio to map
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        str(CRF),
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-sn",
        "-dn",
        "-map_metadata",
        "-1",
        "-movflags",
        "+faststart",
        "-progress",
        "pipe:2",
        "-nostats",
        "-f",
        "mp4",
        "-y",
        f"file:{Path(dst).resolve()}",
    ]


def cut_segment(src: Path, dst: Path, in_point: float, out_point: float, timeout: float, on_progress=None) -> list[str]:
    """Write the cut to dst; returns the argv used (for provenance). on_progress gets 0..1."""
    argv = cut_argv(src, dst, in_point, out_point)
    duration = out_point - in_point

    def on_line(line: str) -> None:
        if on_progress and line.startswith("out_time_us="):
            try:
                on_progress(min(1.0, max(0.0, int(line.split("=", 1)[1]) / 1e6 / duration)))
            except ValueError:  # ffmpeg prints N/A before the first frame
                pass

    done = ffmpeg.run(argv, timeout=timeout, on_stderr_line=on_line)
    if done.returncode != 0:
        errors = [line for line in done.stderr_tail if "=" not in line.split(" ")[0]]  # not progress
        raise MediaToolError(f"cutting [{in_point}, {out_point}] failed: {ffmpeg.error_summary(errors)}")
    return argv


def segment_captions(transcript: dict | None, in_point: float, out_point: float) -> str:
    """WebVTT captions of the words spoken in [in_point, out_point], timed from the segment start.

    `transcript` is the clip's transcript.json. A word belongs to the segment when its middle
    does (a word cut in half at the edge is captioned once, not in two segments), and its times
    are clamped to the segment so no cue starts before 0 or ends after the cut.
    """
    segments = []
    for segment in (transcript or {}).get("segments", []):
        shifted = _shift_segment(segment, in_point, out_point)
        if shifted is not None:
            segments.append(shifted)
    model = (transcript or {}).get("model", "")
    return captions_vtt(Transcript(language=None, model=model, segments=segments))


def _shift_segment(segment: dict, in_point: float, out_point: float) -> Segment | None:
    def shifted(start: float, end: float) -> tuple[float, float]:
        return round(max(start, in_point) - in_point, 3), round(min(end, out_point) - in_point, 3)

    if not segment.get("words"):  # no word times: keep the segment if it mostly overlaps
        if not in_point <= (segment["start"] + segment["end"]) / 2 <= out_point:
            return None
        start, end = shifted(segment["start"], segment["end"])
        return Segment(start, end, segment["text"], speaker=segment.get("speaker"))
    words = [
        Word(*shifted(w["start"], w["end"]), w["word"], w.get("probability", 1.0))
        for w in segment["words"]
        if in_point <= (w["start"] + w["end"]) / 2 <= out_point
    ]
    if not words:
        return None
    return Segment(
        words[0].start, words[-1].end, " ".join(w.word for w in words), words, speaker=segment.get("speaker")
    )


def _seconds(value: float) -> str:
    return f"{value:.3f}"
