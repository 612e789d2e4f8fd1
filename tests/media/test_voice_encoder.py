"""media.voice_encoder, the NumPy port of resemblyzer's voice encoder, against the torch original.

The reference (tests/fixtures/voice_reference.npz) was made by scripts/convert_resemblyzer.py with
torch, the original float32 weights and librosa's mels; nothing here needs torch or librosa.
"""

import contextlib
import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from media import voice_encoder
from media.audio import decode_audio
from media.ffmpeg import ffmpeg_exe

REFERENCE = Path(__file__).parents[1] / "fixtures/voice_reference.npz"


@pytest.fixture(scope="module")
def speech(fixtures) -> np.ndarray:
    return decode_audio(fixtures / "speech.mp4", timeout=60)


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as npz:
        return {name: npz[name] for name in npz.files}


@pytest.fixture(scope="module")
def encoder() -> voice_encoder.VoiceEncoder:
    return voice_encoder.load_encoder()


@pytest.fixture(autouse=True)
def one_blas_thread():
    """As media.diarize calls the encoder: OpenBLAS's threads slow its small matmuls many times."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # only a matter of speed
        limits = contextlib.nullcontext()
    else:
        limits = threadpool_limits(1, user_api="blas")
    with limits:
        yield


def test_embeddings_match_the_torch_original(speech, reference, encoder):
    windows = [(float(s), float(e)) for s, e in reference["windows"]]
    ours = encoder.embed_windows(speech, windows)
    assert ours.shape == (len(windows), 256) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(ours * reference["embeddings"], axis=1)
    assert cosines.min() >= 0.999, cosines


def test_mel_frames_match_librosa(speech, reference):
    start, end = reference["windows"][int(reference["mel_window"])]
    samples = speech[round(float(start) * 16000) : round(float(end) * 16000)]
    assert hashlib.sha256(samples.tobytes()).hexdigest() == str(reference["mel_samples_sha256"]), (
        "speech.mp4 no longer decodes to the samples the reference was made from (another ffmpeg?): "
        "rerun scripts/convert_resemblyzer.py"
    )
    ours = voice_encoder.mel_frames(samples)
    theirs = reference["mel"]
    assert ours.shape == theirs.shape == (1 + len(samples) // 160, 40) and ours.dtype == np.float32
    # float32 rounding apart (measured: 4e-7 relative), the same numbers.
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7 * theirs.max())


def test_partials_are_split_as_resemblyzer_splits_them():
    # 0.8 s and 1.5 s: one partial, zero-padded to 1.6 s.
    assert voice_encoder.partial_starts(12800) == ([0], 25600)
    assert voice_encoder.partial_starts(24000) == ([0], 25600)
    # 3.5 s: partials every 0.8 s; the one at 2.4 s is 68.75 % real audio, under 75 %: dropped.
    assert voice_encoder.partial_starts(56000) == ([0, 80, 160], 51200)
    # 3.0 s: the last partial is 87.5 % real audio, kept and the audio padded to its end.
    assert voice_encoder.partial_starts(48000) == ([0, 80, 160], 51200)


def test_loudness_does_not_change_the_embedding(speech, encoder):
    window = [(4.0, 7.5)]
    normal = encoder.embed_windows(speech, window)[0]
    quiet = encoder.embed_windows(speech * 0.05, window)[0]
    loud = encoder.embed_windows(speech * 4.0, window)[0]  # float samples: no clipping
    assert normal @ quiet > 0.9999
    assert normal @ loud > 0.9999


def test_a_window_without_audio_is_refused(speech, encoder):
    with pytest.raises(ValueError, match="holds no audio"):
        encoder.embed_windows(speech, [(100.0, 101.0)])


def test_the_encoder_is_loaded_once():
    assert voice_encoder.load_encoder() is voice_encoder.load_encoder()


def test_a_tampered_encoder_is_refused(tmp_path):
    tampered = tmp_path / "encoder.npz"
    shutil.copyfile(voice_encoder.ENCODER_PATH, tampered)
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    with pytest.raises(voice_encoder.EncoderIntegrityError, match="sha256"):
        voice_encoder.load_encoder(tampered)


def _say(voice: str, text: str, tmp_path: Path) -> np.ndarray:
    wav = tmp_path / f"{voice}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True, timeout=60)
    argv = [ffmpeg_exe(), "-v", "error", "-i", str(wav), "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1"]
    return np.frombuffer(subprocess.run(argv, capture_output=True, check=True, timeout=60).stdout, np.float32)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng to make two voices")
def test_the_same_voice_is_closer_than_another_voice(tmp_path, encoder):
    sentences = [
        "Please step out of the vehicle and keep your hands where I can see them.",
        "The weather has been cold and rainy all week, so bring a coat tomorrow.",
    ]
    embeds = {}
    for voice in ("en-us", "en-us+f3"):  # espeak's default male voice, and a female variant
        for n, text in enumerate(sentences):
            audio = _say(voice, text, tmp_path)
            embeds[voice, n] = encoder.embed_windows(audio, [(0.0, len(audio) / 16000)])[0]
    same = [embeds["en-us", 0] @ embeds["en-us", 1], embeds["en-us+f3", 0] @ embeds["en-us+f3", 1]]
    different = [embeds["en-us", 0] @ embeds["en-us+f3", 1], embeds["en-us+f3", 0] @ embeds["en-us", 1]]
    assert min(same) > max(different) + 0.1, (same, different)
