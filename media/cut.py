"""Frame-accurate cuts of a segment [in, out] from a clip, and its captions relative to the cut.

The source is the clip's browser proxy (H.264/AAC). A cut is re-encoded, never stream-copied: a
copy can only start on a keyframe, so its first seconds would belong to a moment the trainer did
not choose. `-ss` before `-i` seeks the demuxer to the keyframe before `in` (fast), and ffmpeg's
default `-accurate_seek` then decodes and drops the frames up to `in` exactly (accurate).
"""

import re
from dataclasses import dataclass
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
        *ffmpeg.h264_args(CRF),
        *ffmpeg.AAC_ARGS,
        "-sn",
        "-dn",
        *ffmpeg.mp4_output_args(dst),
    ]


def cut_segment(src: Path, dst: Path, in_point: float, out_point: float, timeout: float, on_progress=None) -> list[str]:
    """Write the cut to dst; returns the argv used (for provenance). on_progress gets 0..1."""
    argv = cut_argv(src, dst, in_point, out_point)
    on_line = ffmpeg.progress_reader(out_point - in_point, on_progress)
    done = ffmpeg.run(argv, timeout=timeout, on_stderr_line=on_line)
    if done.returncode != 0:
        errors = [line for line in done.stderr_tail if not ffmpeg.is_progress_line(line)]
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


# --- one stitched file of a whole lesson ---------------------------------------------------------

_CUE_TIME = re.compile(r"^(\d+:)?(\d\d):(\d\d)\.(\d{3}) --> (\d+:)?(\d\d):(\d\d)\.(\d{3})(.*)$")
SAFE_FILTER_PATH = re.compile(r"^[A-Za-z0-9_./-]+$")


@dataclass(frozen=True)
class StitchPart:
    """One segment file of a lesson (our own render, not hostile input), as the stitch takes it."""

    path: Path
    duration: float
    width: int
    height: int
    has_audio: bool


def _vtt_seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int((hours or "0:")[:-1]) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _vtt_clock(value: float) -> str:
    millis = round(value * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def joined_captions(parts: list[tuple[str, float, float]]) -> str:
    """One WebVTT from each segment's WebVTT, shifted by where the segment starts in the whole:
    parts are (vtt text, offset, duration); a cue is clamped to its segment."""
    cues = []
    for text, offset, duration in parts:
        for block in text.replace("\r\n", "\n").split("\n\n"):
            lines = [line for line in block.split("\n") if line.strip()]
            for index, line in enumerate(lines):
                found = _CUE_TIME.match(line.strip())
                if not found:
                    continue
                g = found.groups()
                start = min(_vtt_seconds(*g[0:4]), duration)
                end = min(_vtt_seconds(*g[4:8]), duration)
                if end > start:
                    cues.append((offset + start, offset + end, "\n".join(lines[index + 1 :])))
                break
    body = "\n\n".join(f"{_vtt_clock(a)} --> {_vtt_clock(b)}\n{t}" for a, b, t in cues if t)
    return "WEBVTT\n\n" + body + ("\n" if body else "")


def stitch_argv(parts: list[StitchPart], captions: Path, dst: Path, burn_captions: bool = False) -> list[str]:
    """ffmpeg argv joining the segment files into one H.264/AAC MP4 (each scaled and padded to the
    first's size), with the captions as a soft mov_text track, and burned in too when asked."""
    if not parts:
        raise ValueError("nothing to stitch")
    width, height = _even(parts[0].width), _even(parts[0].height)
    argv = [*ffmpeg.base_args("error")]
    inputs, graph, labels = 0, [], []
    for index, part in enumerate(parts):
        argv += ffmpeg.input_args(part.path)
        video_in, inputs = inputs, inputs + 1
        if part.has_audio:
            audio = f"[{video_in}:a:0]"
        else:  # a silent segment: silence of its length, so the concat has audio throughout
            argv += ["-f", "lavfi", "-t", _seconds(part.duration), "-i", "anullsrc=r=48000:cl=stereo"]
            audio, inputs = f"[{inputs}:a:0]", inputs + 1
        graph.append(
            f"[{video_in}:v:0]scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[v{index}]"
        )
        graph.append(f"{audio}aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo[a{index}]")
        labels.append(f"[v{index}][a{index}]")
    graph.append(f"{''.join(labels)}concat=n={len(parts)}:v=1:a=1[vcat][aout]")
    if burn_captions:
        subtitles = str(Path(captions).resolve())
        if not SAFE_FILTER_PATH.match(subtitles):
            raise MediaToolError("the captions' work path has characters a filter graph cannot take")
        graph.append(f"[vcat]subtitles=filename={subtitles}:charenc=UTF-8[vout]")
    else:
        graph.append("[vcat]null[vout]")
    argv += ["-protocol_whitelist", "file", "-f", "webvtt", "-i", f"file:{Path(captions).resolve()}"]
    return [
        *argv,
        "-filter_complex",
        ";".join(graph),
        "-map",
        "[vout]",
        "-map",
        "[aout]",
        "-map",
        f"{inputs}:s:0?",
        *ffmpeg.h264_args(CRF),
        *ffmpeg.AAC_ARGS,
        "-c:s",
        "mov_text",
        "-metadata:s:s:0",
        "language=eng",
        *ffmpeg.mp4_output_args(dst),
    ]


def stitch(
    parts: list[StitchPart], captions: Path, dst: Path, timeout: float, burn_captions: bool = False, on_progress=None
) -> list[str]:
    """Write the stitched lesson to dst; returns the argv (for the manifest). on_progress gets 0..1."""
    argv = stitch_argv(parts, captions, dst, burn_captions)
    on_line = ffmpeg.progress_reader(sum(p.duration for p in parts), on_progress)
    done = ffmpeg.run(argv, timeout=timeout, on_stderr_line=on_line)
    if done.returncode != 0:
        errors = [line for line in done.stderr_tail if not ffmpeg.is_progress_line(line)]
        raise MediaToolError(f"stitching the lesson failed: {ffmpeg.error_summary(errors)}")
    return argv


def _even(value: int) -> int:
    return max(2, int(value) - int(value) % 2)
