"""Does giving Whisper the domain's vocabulary lower the word error rate? Measured, not assumed.

Short spoken sentences full of the domain's words (made with espeak-ng, encoded as the pipeline's
audio: 16 kHz mono AAC) are transcribed by the pipeline's model (tiny.en) and TranscribeOptions three
ways: no vocabulary, the vocabulary as `initial_prompt` (what the pipeline uses), and the same words
as faster-whisper's `hotwords`. Printed per sentence and overall: word error rate (jiwer, case and
punctuation ignored), how many domain words came out right, and the time ratio against no
vocabulary.

A long recording (the sentences and speech.txt back to back, about 80 s) shows what each reaches:
with condition_on_previous_text=False the prompt reaches only the first 30 s of speech, hotwords
every window. But hotwords make tiny.en skip whole windows on longer speech: speech.txt looped to
four minutes (one run per way, the words kept printed) is why the pipeline uses the prompt; looped
four times back to back (tests/test_crash.py's input) it is run three times per way and shown as a
range. Whisper's fallback samples at random: figures move a little from run to run.

    .venv/bin/python bench/vocabulary.py
"""

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import imageio_ffmpeg  # noqa: E402
import numpy as np  # noqa: E402

from api.config import DEFAULT_VOCABULARY  # noqa: E402
from media import audio, transcribe  # noqa: E402
from tests.media.test_outputs import word_error_rate  # noqa: E402

CACHE = ROOT / "bench" / ".cache" / "vocabulary"
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
PLAIN = (ROOT / "tests" / "fixtures" / "speech.txt").read_text().strip()
SENTENCES = [
    "I gave him two doses of Narcan and started CPR.",
    "Get the AED from the car and keep doing compressions.",
    "Put a tourniquet on his leg and tighten it.",
    "She is not breathing, hand me the naloxone.",
    "This is CMPD, Steele Creek division, we need a medic.",
    "Providence division units, the patient is on naloxone and CPR is in progress.",
    "Officer from Hickory Grove brought the AED and the Narcan.",
    "Apply the tourniquet above the wound, then check for a pulse.",
    "University City and Eastway units, EMS is staging at the corner.",
    "Westover is clear, Independence division is taking the call.",
]
DOMAIN = {w.strip().lower() for w in DEFAULT_VOCABULARY.split(",") for w in w.split()}
VOCABULARY = transcribe.vocabulary_prompt(DEFAULT_VOCABULARY)
WAYS = {"none": {}, "initial_prompt": {"initial_prompt": VOCABULARY}, "hotwords": {"hotwords": VOCABULARY}}


def speech(n: int, text: str) -> np.ndarray:
    """espeak-ng → AAC in M4A (cached) → the pipeline's own audio decoder."""
    path = CACHE / f"sentence{n:02d}.m4a"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        wav = CACHE / f"sentence{n:02d}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), text], check=True)
        subprocess.run([FFMPEG, "-nostdin", "-y", "-loglevel", "error", "-i", str(wav), "-ac", "1", "-ar", "16000",
                        "-c:a", "aac", "-b:a", "24k", str(path)], check=True)
        wav.unlink()
    return audio.decode_audio(path, 60)


def run(model, samples: np.ndarray, way: str) -> tuple[str, float]:
    options = transcribe.TranscribeOptions(**WAYS[way])
    started = time.perf_counter()
    result = transcribe.transcribe(model, samples, "tiny.en", options)
    return " ".join(s.text for s in result.segments), time.perf_counter() - started


def domain_words(text: str) -> list[str]:
    return [w for w in _words(text) if w in DOMAIN]


def _words(text: str) -> list[str]:
    return "".join(c.lower() if c.isalnum() else " " for c in text).split()


def domain_hits(reference: str, hypothesis: str) -> tuple[int, int]:
    expected, heard = domain_words(reference), _words(hypothesis)
    return sum(1 for w in expected if w in heard), len(expected)


def short_sentences(model, clips: list[np.ndarray]) -> dict[str, dict]:
    """Each sentence three ways; totals over the domain sentences (speech.txt is shown, not counted)."""
    totals = {way: {"wer": 0.0, "hits": 0, "terms": 0, "seconds": 0.0} for way in WAYS}
    print(f"{'sentence':<58}" + "".join(f"{way:>16}" for way in WAYS))
    for text, samples in zip([*SENTENCES, PLAIN], clips):
        row = []
        for way in WAYS:
            heard, seconds = run(model, samples, way)
            wer, (hits, terms) = word_error_rate(text, heard), domain_hits(text, heard)
            if text != PLAIN:
                for key, value in (("wer", wer), ("hits", hits), ("terms", terms), ("seconds", seconds)):
                    totals[way][key] += value
            row.append(f"{wer:>7.2f} ({hits}/{terms})")
        label = ("[plain] " if text == PLAIN else "") + text
        print(f"{label[:56]:<58}" + "".join(f"{cell:>16}" for cell in row))
    print("\nover the domain sentences: mean WER, domain words right, time vs none")
    for way, t in totals.items():
        print(f"  {way:<15} WER {t['wer'] / len(SENTENCES):.3f}   {t['hits']}/{t['terms']} domain words   "
              f"time x{t['seconds'] / totals['none']['seconds']:.2f}")
    return totals


def long_recording(model, clips: list[np.ndarray]) -> dict[str, float]:
    """speech.txt, every sentence, speech.txt again, with 2 s pauses: several 30 s windows."""
    text = " ".join([PLAIN, *SENTENCES, PLAIN])
    gap = np.zeros(audio.SAMPLE_RATE * 2, np.float32)
    samples = np.concatenate([part for clip in [clips[-1], *clips[:-1], clips[-1]] for part in (clip, gap)])
    print(f"\none long recording ({len(samples) / audio.SAMPLE_RATE:.0f} s: several 30 s windows)")
    wers, seconds = {}, {}
    for way in WAYS:
        heard, seconds[way] = run(model, samples, way)
        hits, terms = domain_hits(text, heard)
        wers[way] = word_error_rate(text, heard)
        print(f"  {way:<15} WER {wers[way]:.3f}   {hits}/{terms} domain words   "
              f"time x{seconds[way] / seconds['none']:.2f}")
    return wers


def looped_plain_speech(model) -> None:
    """speech.mp4 four times over, cut at the loop points with no pause: Whisper's hard case."""
    looped = CACHE / "speech_x4.mp4"
    if not looped.exists():
        subprocess.run([FFMPEG, "-nostdin", "-y", "-loglevel", "error", "-stream_loop", "3", "-i",
                        str(ROOT / "tests" / "fixtures" / "speech.mp4"), "-c", "copy", str(looped)], check=True)
    samples, text = audio.decode_audio(looped, 60), " ".join([PLAIN] * 4)
    print(f"\nspeech.txt looped four times ({len(samples) / audio.SAMPLE_RATE:.0f} s, no domain words), 3 runs each")
    for way in WAYS:
        wers = sorted(word_error_rate(text, run(model, samples, way)[0]) for _ in range(3))
        print(f"  {way:<15} WER {wers[0]:.3f} .. {wers[-1]:.3f}   (median {wers[1]:.3f})")


def four_minutes_of_speech(model) -> dict[str, float]:
    """speech.txt sixteen times over (about 4 minutes): how much of the speech each way keeps."""
    samples = np.tile(audio.decode_audio(ROOT / "tests" / "fixtures" / "speech.mp4", 60), 16)
    text = " ".join([PLAIN] * 16)
    print(f"\nspeech.txt looped to {len(samples) / audio.SAMPLE_RATE:.0f} s ({len(_words(text))} words), one run each")
    kept = {}
    for way in WAYS:
        heard, seconds = run(model, samples, way)
        kept[way] = len(_words(heard)) / len(_words(text))
        print(f"  {way:<15} WER {word_error_rate(text, heard):.3f}   words kept {kept[way]:.0%}   {seconds:.0f} s")
    return kept


def main() -> int:
    if not shutil.which("espeak-ng") and not all((CACHE / f"sentence{n:02d}.m4a").exists()
                                                 for n in range(len(SENTENCES) + 1)):
        print("MISS: bench/vocabulary.py speaks its sentences with espeak-ng: apt-get install espeak-ng")
        return 1
    model = transcribe.load_model(transcribe.default_model_path())
    clips = [speech(n, text) for n, text in enumerate([*SENTENCES, PLAIN])]
    run(model, clips[0], "none")  # warm-up
    print(f"vocabulary ({len(DOMAIN)} words): {DEFAULT_VOCABULARY}\n")
    short = short_sentences(model, clips)
    long = long_recording(model, clips)
    looped_plain_speech(model)
    kept = four_minutes_of_speech(model)
    better = (short["initial_prompt"]["wer"] < short["none"]["wer"] and long["initial_prompt"] <= long["none"]
              and kept["initial_prompt"] >= 0.95 * kept["none"])
    print(f"\nRESULT: {'PASS' if better else 'MISS'} (the pipeline's prompt lowers the WER on the short "
          "sentences, raises it not on the long recording, and keeps the four minutes' words)")
    return 0 if better else 1


if __name__ == "__main__":
    sys.exit(main())
