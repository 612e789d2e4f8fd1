"""Convert resemblyzer 0.1.4's pretrained voice encoder into NumPy weights for media/voice_encoder.py.

A one-off, reproducible conversion, run OUTSIDE the product venv: the product never needs torch,
librosa or resemblyzer. To rerun it from the repository root:

    python3.11 -m venv /tmp/conv-venv
    /tmp/conv-venv/bin/pip install torch==2.13.0 librosa==0.11.0 imageio-ffmpeg==0.8.1
    /tmp/conv-venv/bin/pip download resemblyzer==0.1.4 --no-deps -d /tmp/conv
    /tmp/conv-venv/bin/python scripts/convert_resemblyzer.py /tmp/conv/Resemblyzer-0.1.4-py3-none-any.whl

(resemblyzer itself is not installed, its webrtcvad dependency needs a compiler: the script reads
`resemblyzer/pretrained.pt` and the LICENSE out of the wheel and rebuilds the tiny network.) It writes

    media/models/resemblyzer/encoder.npz      LSTM + linear weights as float16, biases and the
                                              40x201 mel filterbank as float32; byte-reproducible
    media/models/resemblyzer/LICENSE          resemblyzer's Apache-2.0 licence
    media/models/resemblyzer/PROVENANCE.md    source, hashes, agreement figures, date
    tests/fixtures/voice_reference.npz        the ORIGINAL torch model's embeddings (float32
                                              weights, librosa mels) of fixed windows of
                                              tests/fixtures/speech.mp4, and librosa's mels of one

and prints encoder.npz's sha256: it must equal ENCODER_SHA256 in media/voice_encoder.py (the
script says so when it does not). imageio-ffmpeg is pinned to the product's version so that the
fixture decodes to the same samples here and in the tests.
"""

import argparse
import datetime
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import librosa
import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from media import voice_encoder  # NumPy only: checked against torch below
from media.audio import decode_audio

PRETRAINED = "resemblyzer/pretrained.pt"
PRETRAINED_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
LICENSE = "Resemblyzer-0.1.4.dist-info/LICENSE"
OUT_DIR = ROOT / "media/models/resemblyzer"
FIXTURE = ROOT / "tests/fixtures/speech.mp4"
REFERENCE = ROOT / "tests/fixtures/voice_reference.npz"
# Seconds of speech.mp4 (speech from 1.5 s to 15 s): short (one zero-padded partial), 1.5 s
# (one partial), and long ones (several overlapping partials, one with a dropped last partial).
WINDOWS = [(1.5, 3.0), (3.2, 4.0), (4.0, 7.5), (8.0, 9.5), (10.0, 15.0), (5.0, 8.9)]
MEL_WINDOW = 0  # the window whose librosa mels go into the reference

# resemblyzer/hparams.py
SAMPLING_RATE = 16000
MEL_WINDOW_LENGTH = 25  # ms
MEL_WINDOW_STEP = 10  # ms
MEL_N_CHANNELS = 40
PARTIALS_N_FRAMES = 160
AUDIO_NORM_TARGET_DBFS = -30
# resemblyzer's rate is partials per second; 1.25 gives its frame_step of 80 frames: 50 % overlap.
RATE = 1.25
MIN_COVERAGE = 0.75
INT16_MAX = (2**15) - 1


class TorchVoiceEncoder(nn.Module):
    """resemblyzer.VoiceEncoder's network and forward(), without its file and device handling."""

    def __init__(self, state: dict[str, torch.Tensor]):
        super().__init__()
        self.lstm = nn.LSTM(MEL_N_CHANNELS, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)
        self.relu = nn.ReLU()
        self.load_state_dict(state, strict=False)  # strict=False as resemblyzer: skips similarity_*
        self.eval()

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(mels)
        embeds_raw = self.relu(self.linear(hidden[-1]))
        return embeds_raw / torch.norm(embeds_raw, dim=1, keepdim=True)


def compute_partial_slices(n_samples: int, rate: float, min_coverage: float):
    """resemblyzer.VoiceEncoder.compute_partial_slices, verbatim but for the docstring and messages."""
    assert 0 < min_coverage <= 1
    samples_per_frame = int(SAMPLING_RATE * MEL_WINDOW_STEP / 1000)
    n_frames = int(np.ceil((n_samples + 1) / samples_per_frame))
    frame_step = int(np.round((SAMPLING_RATE / rate) / samples_per_frame))
    assert 0 < frame_step
    assert frame_step <= PARTIALS_N_FRAMES
    wav_slices, mel_slices = [], []
    steps = max(1, n_frames - PARTIALS_N_FRAMES + frame_step + 1)
    for i in range(0, steps, frame_step):
        mel_range = np.array([i, i + PARTIALS_N_FRAMES])
        wav_range = mel_range * samples_per_frame
        mel_slices.append(slice(*mel_range))
        wav_slices.append(slice(*wav_range))
    last_wav_range = wav_slices[-1]
    coverage = (n_samples - last_wav_range.start) / (last_wav_range.stop - last_wav_range.start)
    if coverage < min_coverage and len(mel_slices) > 1:
        mel_slices = mel_slices[:-1]
        wav_slices = wav_slices[:-1]
    return wav_slices, mel_slices


def normalize_volume(wav: np.ndarray, target_dbfs: float) -> np.ndarray:
    """resemblyzer.audio.normalize_volume with neither increase_only nor decrease_only."""
    rms = np.sqrt(np.mean((wav * INT16_MAX) ** 2))
    wave_dbfs = 20 * np.log10(rms / INT16_MAX)
    return wav * (10 ** ((target_dbfs - wave_dbfs) / 20))


def wav_to_mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """resemblyzer.audio.wav_to_mel_spectrogram: librosa's mel power spectrogram, no log."""
    frames = librosa.feature.melspectrogram(
        y=wav,
        sr=SAMPLING_RATE,
        n_fft=int(SAMPLING_RATE * MEL_WINDOW_LENGTH / 1000),
        hop_length=int(SAMPLING_RATE * MEL_WINDOW_STEP / 1000),
        n_mels=MEL_N_CHANNELS,
    )
    return frames.astype(np.float32).T


def cut(audio: np.ndarray, start: float, end: float) -> np.ndarray:
    return audio[round(start * SAMPLING_RATE) : round(end * SAMPLING_RATE)]


def window_partials(samples: np.ndarray) -> np.ndarray:
    """resemblyzer.embed_utterance's split into mel partials, after normalising the level."""
    wav = normalize_volume(samples, AUDIO_NORM_TARGET_DBFS)
    wav_slices, mel_slices = compute_partial_slices(len(wav), RATE, MIN_COVERAGE)
    if wav_slices[-1].stop >= len(wav):
        wav = np.pad(wav, (0, wav_slices[-1].stop - len(wav)), "constant")
    mel = wav_to_mel_spectrogram(wav)
    return np.array([mel[s] for s in mel_slices])


def embed_window(model: TorchVoiceEncoder, samples: np.ndarray) -> np.ndarray:
    """resemblyzer.embed_utterance: mean of the partials' embeddings, re-normalised."""
    with torch.no_grad():
        partial_embeds = model(torch.from_numpy(window_partials(samples))).numpy()
    raw = partial_embeds.mean(axis=0)
    return (raw / np.linalg.norm(raw, 2)).astype(np.float32)


def weights_npz(state: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    arrays = {}
    for name, tensor in state.items():
        if name.startswith("similarity_"):
            continue  # only used by the training loss
        value = tensor.numpy()
        # float16 for the weight matrices (the bulk, and what keeps the file small); the biases
        # are 1-D and tiny, so they stay exact.
        arrays[name] = value.astype(np.float16) if value.ndim == 2 else value.astype(np.float32)
    arrays["mel_basis"] = librosa.filters.mel(sr=SAMPLING_RATE, n_fft=400, n_mels=40).astype(np.float32)
    return arrays


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> bytes:
    """np.savez, but byte-reproducible: fixed member order and timestamps, stored uncompressed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.external_attr = 0o644 << 16
            array_bytes = io.BytesIO()
            np.lib.format.write_array(array_bytes, np.asarray(arrays[name], order="C"), allow_pickle=False)
            archive.writestr(member, array_bytes.getvalue())
    data = buffer.getvalue()
    path.write_bytes(data)
    return data


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def rounded_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The state with its weight matrices through float16 and back, as encoder.npz holds them."""
    return {k: v.half().float() if v.dim() == 2 else v for k, v in state.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wheel", type=Path, help="Resemblyzer-0.1.4-py3-none-any.whl")
    args = parser.parse_args()
    torch.set_num_threads(1)

    with zipfile.ZipFile(args.wheel) as wheel:
        pretrained = wheel.read(PRETRAINED)
        licence = wheel.read(LICENSE)
    pretrained_sha = hashlib.sha256(pretrained).hexdigest()
    if pretrained_sha != PRETRAINED_SHA256:
        sys.exit(f"{PRETRAINED} has sha256 {pretrained_sha}, not resemblyzer 0.1.4's {PRETRAINED_SHA256}")
    checkpoint = torch.load(io.BytesIO(pretrained), map_location="cpu", weights_only=False)
    state = checkpoint["model_state"]

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    arrays = weights_npz(state)
    encoder_sha = hashlib.sha256(write_npz(OUT_DIR / "encoder.npz", arrays)).hexdigest()
    (OUT_DIR / "LICENSE").write_bytes(licence)

    audio = decode_audio(FIXTURE, timeout=60)
    original = TorchVoiceEncoder(state)
    half = TorchVoiceEncoder(rounded_state(state))
    segments = [cut(audio, s, e) for s, e in WINDOWS]
    reference = np.stack([embed_window(original, seg) for seg in segments])
    half_embeds = np.stack([embed_window(half, seg) for seg in segments])
    numpy_encoder = voice_encoder.VoiceEncoder(arrays)  # bypasses the hash check: not pinned yet
    numpy_embeds = numpy_encoder.embed_windows(audio, WINDOWS)

    # Partial-level agreement over the whole fixture, every 0.2 s (speech, silence, edges).
    every = np.stack(sliding_partials(wav_to_mel_spectrogram(normalize_volume(audio, AUDIO_NORM_TARGET_DBFS))))
    with torch.no_grad():
        partial_f32 = original(torch.from_numpy(every)).numpy()
        partial_f16 = half(torch.from_numpy(every)).numpy()
    partial_numpy = numpy_encoder.embed_partials(every)

    mel_samples = segments[MEL_WINDOW]
    write_npz(
        REFERENCE,
        {
            "windows": np.array(WINDOWS, np.float64),
            "embeddings": reference,
            "mel_window": np.int64(MEL_WINDOW),
            "mel": wav_to_mel_spectrogram(mel_samples),
            # The test checks that the fixture still decodes to these samples before comparing mels.
            "mel_samples_sha256": np.array(hashlib.sha256(mel_samples.tobytes()).hexdigest()),
        },
    )

    figures = {
        "windows: torch float16-rounded weights vs float32, min cosine": cosines(half_embeds, reference).min(),
        "windows: NumPy encoder.npz vs torch float32, min cosine": cosines(numpy_embeds, reference).min(),
        f"{len(every)} partials: torch float16-rounded vs float32, min cosine": cosines(partial_f16, partial_f32).min(),
        f"{len(every)} partials: NumPy encoder.npz vs torch float32, min cosine": cosines(
            partial_numpy, partial_f32
        ).min(),
        f"{len(every)} partials: NumPy vs torch float16-rounded, min cosine": cosines(partial_numpy, partial_f16).min(),
    }
    write_provenance(pretrained_sha, encoder_sha, figures)
    for text, value in figures.items():
        print(f"{text}: {value:.7f}")
    print(f"encoder.npz: {(OUT_DIR / 'encoder.npz').stat().st_size} bytes, sha256 {encoder_sha}")
    if encoder_sha != voice_encoder.ENCODER_SHA256:
        print(f"UPDATE media/voice_encoder.py: ENCODER_SHA256 = {encoder_sha!r}")


def sliding_partials(mel: np.ndarray, step: int = 20) -> list[np.ndarray]:
    return [mel[i : i + PARTIALS_N_FRAMES] for i in range(0, len(mel) - PARTIALS_N_FRAMES + 1, step)]


def write_provenance(pretrained_sha: str, encoder_sha: str, figures: dict[str, float]) -> None:
    agreement = "\n".join(f"- {text}: {value:.7f}" for text, value in figures.items())
    (OUT_DIR / "PROVENANCE.md").write_text(f"""# resemblyzer voice encoder, converted to NumPy

(Written by `scripts/convert_resemblyzer.py`; rerun it rather than editing this file.)

- Source: the PyPI package `resemblyzer` 0.1.4 (Resemblyzer-0.1.4-py3-none-any.whl),
  https://github.com/resemble-ai/Resemblyzer, licence Apache-2.0 (`LICENSE` here, from the wheel's
  `Resemblyzer-0.1.4.dist-info/LICENSE`).
- File: `{PRETRAINED}`, sha256 `{pretrained_sha}`; its `model_state` only
  (`lstm.*`, `linear.*`; `similarity_weight`/`similarity_bias` are training-only and dropped).
- Converted by `scripts/convert_resemblyzer.py` (torch {torch.__version__}, librosa
  {librosa.__version__}, numpy {np.__version__}) on {datetime.date.today().isoformat()}.
- `encoder.npz`: sha256 `{encoder_sha}` (pinned as `ENCODER_SHA256` in `media/voice_encoder.py`).
  Weight matrices float16, biases float32 (as in PyTorch: `lstm.weight_ih_l{{k}}`, `weight_hh_l{{k}}`,
  `bias_ih_l{{k}}`, `bias_hh_l{{k}}`, gate order i, f, g, o; `linear.weight`, `linear.bias`), and
  `mel_basis` = `librosa.filters.mel(sr=16000, n_fft=400, n_mels=40)` float32 (40 x 201).
- Mel frames follow librosa {librosa.__version__}'s `melspectrogram(sr=16000, n_fft=400, hop_length=160,
  n_mels=40)`: centred, zero (`constant`) padding (librosa's default since 0.10; resemblyzer was
  written when it was `reflect`, which only changes the first and last two frames).

Agreement, on `tests/fixtures/speech.mp4` (the fixed windows of `tests/fixtures/voice_reference.npz`,
and 160-frame partials of the whole clip every 0.2 s):

{agreement}
""")


if __name__ == "__main__":
    main()
