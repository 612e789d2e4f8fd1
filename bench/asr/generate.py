"""Render the ASR evaluation clip scripts into BWC-like media files and reference transcripts.

    python bench/asr/generate.py --split dev|blind|all [--out DIR]

Each script (bench/asr/scripts/<split>/*.json, format in bench/asr/README.md) becomes
DIR/<id>.<container> (a synthetic 320x240 10 fps video + the mixed audio) and DIR/<id>.ref.json
with every line's real start/end in the mix. Lines are spoken by espeak-ng, resampled by sox,
trimmed and placed on a timeline; noise (sox synth) at the script's SNR and an optional wailing
siren go under the whole clip. A clip whose script hash matches its ref.json is not rendered again.

Levels: each speaker is normalised to -20 dBFS RMS over their speech, then gets its gain_db (so
"officer 0 dB, person 1 -9 dB" means what it says whatever espeak voice is used). Noise SNR is
relative to the officer's speech RMS; siren level_db is dBFS on that scale (-20 = as loud as the
officer). The mix is scaled down as a whole if it would clip, which keeps every ratio.
"""

import argparse
import hashlib
import json
import math
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import imageio_ffmpeg
import numpy as np

BENCH = Path(__file__).resolve().parent
SCRIPTS = BENCH / "scripts"
CACHE = BENCH.parent / ".cache" / "asr"
SPLITS = ("dev", "blind")
RATE = 16000
GENERATOR_VERSION = 2  # bump when rendering changes, so cached clips are rendered again
SPEECH_DBFS = -20.0
DEFAULT_PAUSE = 0.4  # seconds between lines when a script gives no pause_before
LEAD_IN, TAIL = 0.5, 1.0  # noise before the first line and after the last, as on a real camera
TRIM_DBFS = -45.0  # espeak's leading/trailing silence is digital zero or near it

CATEGORIES = {"de-escalation", "community-engagement", "life-saving"}
VIDEO = {
    "h264": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
    "hevc": ["-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-x265-params", "log-level=error"],
    "mjpeg": ["-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p"],
}
AUDIO = {
    "mp4": ["-c:a", "aac", "-b:a", "96k"],
    "mov": ["-c:a", "aac", "-b:a", "96k"],
    "mkv": ["-c:a", "aac", "-b:a", "96k"],
    "avi": ["-c:a", "pcm_s16le"],
}
NOISE = {"pink": "pinknoise", "brown": "brownnoise", "white": "whitenoise"}


def run(argv: list) -> None:
    subprocess.run([str(a) for a in argv], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768


def write_wav(path: Path, audio: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(audio**2))) if len(audio) else 0.0


def db(value: float) -> float:
    return 10 ** (value / 20)


def trim(audio: np.ndarray) -> np.ndarray:
    """Cut espeak's silence at both ends, so a line's start/end are when its voice starts/stops."""
    loud = np.flatnonzero(np.abs(audio) > db(TRIM_DBFS))
    return audio[loud[0] : loud[-1] + 1] if len(loud) else audio[:0]


def speak(text: str, voice: dict, tmp: Path) -> np.ndarray:
    """One line as 16 kHz mono float samples, silence trimmed (levels are set later, per speaker)."""
    raw, resampled = tmp / "espeak.wav", tmp / "line.wav"
    run(
        [
            "espeak-ng",
            "-v",
            voice["voice"],
            "-s",
            voice.get("speed", 165),
            "-p",
            voice.get("pitch", 50),
            "-w",
            raw,
            text,
        ]
    )
    run(["sox", "-V1", "-R", raw, "-r", RATE, "-c", 1, "-b", 16, resampled])  # -R: the same dither every time
    return trim(read_wav(resampled))


def timeline(lines: list, audio: list) -> list:
    """Start of each line: after everything so far plus its pause (a negative pause overlaps)."""
    starts, cursor = [], LEAD_IN
    for i, (line, samples) in enumerate(zip(lines, audio)):
        pause = line.get("pause_before", 0.0 if i == 0 else DEFAULT_PAUSE)
        start = max(0.0, cursor + pause)
        starts.append(start)
        cursor = max(cursor, start + len(samples) / RATE)
    return starts


def noise(color: str, seconds: float, tmp: Path) -> np.ndarray:
    path = tmp / "noise.wav"
    # -R: the same noise on every render, so a re-render scores the same
    run(["sox", "-V1", "-R", "-n", "-r", RATE, "-c", 1, "-b", 16, path, "synth", f"{seconds:.3f}", NOISE[color]])
    samples = read_wav(path)
    return samples - samples.mean()  # brown noise drifts; the level should be the noise, not DC


def siren(length: int, start: float, duration: float) -> np.ndarray:
    """A wail: a sine sweeping 600-1400 Hz and back every 4 s, fading in and out over 1.5 s."""
    out = np.zeros(length)
    a, b = int(start * RATE), min(length, int((start + duration) * RATE))
    if b <= a:
        return out
    t = np.arange(b - a) / RATE
    freq = 1000 - 400 * np.cos(2 * math.pi * t / 4.0)
    tone = np.sin(2 * math.pi * np.cumsum(freq) / RATE)
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 1.5)
    out[a:b] = tone * fade
    return out


def set_levels(audio: list, lines: list, voices: dict) -> list:
    """Each speaker at -20 dBFS RMS over their speech, plus their gain_db, whatever espeak's voice level."""
    out = list(audio)
    for speaker, voice in voices.items():
        mine = [i for i, line in enumerate(lines) if line["speaker"] == speaker]
        level = rms(np.concatenate([audio[i] for i in mine])) if mine else 0.0
        for i in mine:
            out[i] = audio[i] * db(SPEECH_DBFS + voice.get("gain_db", 0)) / level if level else audio[i]
    return out


def place(lines: list, audio: list) -> tuple[np.ndarray, list]:
    """The lines summed on their timeline, and the reference lines [{speaker, start, end, text}]."""
    starts = timeline(lines, audio)
    out = np.zeros(int((max(s + len(a) / RATE for s, a in zip(starts, audio)) + TAIL) * RATE))
    refs = []
    for line, samples, start in zip(lines, audio, starts):
        i = round(start * RATE)
        out[i : i + len(samples)] += samples
        refs.append(
            {
                "speaker": line["speaker"],
                "start": round(i / RATE, 3),
                "end": round((i + len(samples)) / RATE, 3),
                "text": line["text"],
            }
        )
    return out, refs


def mix(script: dict, tmp: Path) -> tuple[np.ndarray, list]:
    """The clip's audio (speech, noise, siren) and its reference lines."""
    lines = script["lines"]
    audio = set_levels(
        [speak(line["text"], script["voices"][line["speaker"]], tmp) for line in lines], lines, script["voices"]
    )
    out, refs = place(lines, audio)
    officer = [a for a, line in zip(audio, lines) if line["speaker"] == "officer"]
    speech_level = rms(np.concatenate(officer)) if officer else db(SPEECH_DBFS)
    if script.get("noise"):
        n = noise(script["noise"]["color"], len(out) / RATE + 0.1, tmp)[: len(out)]
        out += n * speech_level / db(script["noise"]["snr_db"]) / max(rms(n), 1e-9)
    if script.get("siren"):
        s = script["siren"]
        out += siren(len(out), s["start"], s["duration"]) * math.sqrt(2) * db(s.get("level_db", -20))
    peak = np.abs(out).max()
    return (out * 0.95 / peak if peak > 0.95 else out), refs  # scaled as a whole: every ratio kept


def mux(wav: Path, script: dict, dest: Path, seconds: float) -> None:
    """The audio with a small synthetic video, in the script's container and codecs."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    container, codec = script.get("container", "mp4"), script.get("video_codec", "h264")
    run(
        [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=320x240:rate=10:duration={seconds:.3f}",
            "-i",
            wav,
            *VIDEO[codec],
            "-g",
            "20",
            *AUDIO[container],
            "-ar",
            RATE,
            "-shortest",
            dest,
        ]
    )


def check(script: dict, path: Path) -> None:
    """Fail early, naming the file, on a script the renderer would misread."""

    def need(ok, what):
        if not ok:
            raise ValueError(f"{path}: {what}")

    need(isinstance(script.get("id"), str) and script["id"], "no id")
    need(set(script.get("expected_categories", [None])) <= CATEGORIES, "unknown expected category")
    need(
        script.get("container", "mp4") in AUDIO and script.get("video_codec", "h264") in VIDEO,
        "container is mp4|mkv|mov|avi, video_codec h264|hevc|mjpeg",
    )
    need(not script.get("noise") or script["noise"].get("color") in NOISE, "noise color is pink|brown|white")
    need(script.get("lines"), "no lines")
    for line in script["lines"]:
        need(line.get("speaker") in script.get("voices", {}), f"speaker {line.get('speaker')!r} has no voice")
        need(line.get("pause_before", 0) <= 40, "pause_before is at most 40 s")


def script_hash(script: dict) -> str:
    text = json.dumps(script, sort_keys=True) + f"/v{GENERATOR_VERSION}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def render(path: Path, out_dir: Path) -> Path:
    """One script -> media + ref.json; skipped when the ref says this exact script is rendered."""
    script = json.loads(path.read_text())
    check(script, path)
    ref_path = out_dir / f"{script['id']}.ref.json"
    media = out_dir / f"{script['id']}.{script.get('container', 'mp4')}"
    digest = script_hash(script)
    if ref_path.exists() and media.exists() and json.loads(ref_path.read_text()).get("script_hash") == digest:
        return ref_path
    with tempfile.TemporaryDirectory() as tmp:
        audio, lines = mix(script, Path(tmp))
        wav = Path(tmp) / "mix.wav"
        write_wav(wav, audio)
        seconds = len(audio) / RATE
        mux(wav, script, media, seconds)
    ref = {
        "id": script["id"],
        "duration": round(seconds, 3),
        "expected_categories": script["expected_categories"],
        "lines": lines,
        "media": media.name,
        "script_hash": digest,
    }
    ref_path.write_text(json.dumps(ref, indent=1) + "\n")
    return ref_path


def generate(split: str, out_dir: Path | None = None, only: str = "") -> list[Path]:
    """Render a split (cached); the ref.json paths. 'all' = dev then blind, each in its own folder.

    only: render just the scripts whose id contains it.
    """
    if split == "all":
        return [p for s in SPLITS for p in generate(s, Path(out_dir) / s if out_dir else None, only)]
    out_dir = Path(out_dir or CACHE / split)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [p for p in sorted((SCRIPTS / split).glob("*.json")) if only in json.loads(p.read_text()).get("id", "")]
    return [render(path, out_dir) for path in paths]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=[*SPLITS, "all"], default="dev")
    parser.add_argument("--out", type=Path, help="output folder (default bench/.cache/asr/<split>/)")
    parser.add_argument("--only", default="", help="only the scripts whose id contains this")
    args = parser.parse_args()
    try:
        refs = generate(args.split, args.out, args.only)
    except subprocess.CalledProcessError as e:
        sys.exit(f"{e.cmd[0]} failed: {e.stderr.decode(errors='replace').strip()}")
    total = sum(json.loads(p.read_text())["duration"] for p in refs)
    folders = ", ".join(sorted({str(p.parent) for p in refs})) or "nothing rendered"
    print(f"{len(refs)} clips, {total / 60:.1f} min of audio, in {folders}")


if __name__ == "__main__":
    main()
