"""Speaker embeddings from resemblyzer's pretrained voice encoder, in NumPy alone (no torch).

The weights are resemblyzer 0.1.4's `pretrained.pt` (Apache-2.0), converted once by
`scripts/convert_resemblyzer.py` into `models/resemblyzer/encoder.npz` (float16 weights, float32
biases and the 40-band mel filterbank), see `models/resemblyzer/PROVENANCE.md`. The network: a
3-layer LSTM (40 mel bands in, 256 hidden) over 160-frame partials (1.6 s), the last layer's final
hidden state through linear 256->256 and ReLU, L2-normalised. Everything is computed in float32.

    encoder = load_encoder()
    embeddings = encoder.embed_windows(audio_16k_mono_f32, [(1.5, 3.0), (4.0, 7.5)])  # (2, 256)
    similarity = embeddings[0] @ embeddings[1]  # cosine: rows are unit vectors
"""

import hashlib
import io
import threading
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
HIDDEN = 256
PARTIAL_FRAMES = 160  # 1.6 s: the length the encoder was trained on
PARTIAL_STEP = 80  # 50 % overlap between the partials of a long window
MIN_COVERAGE = 0.75  # a last partial less covered by real audio than this is dropped (resemblyzer's rule)
TARGET_DBFS = -30.0  # resemblyzer's audio_norm_target_dBFS
# Partials run through the LSTM together in batches of at most this many: big enough that each
# step's matmul runs near the core's peak, small enough that a batch's buffers stay in cache
# (64 to 384 measured within noise of each other).
BATCH = 128

ENCODER_PATH = Path(__file__).parent / "models/resemblyzer/encoder.npz"
ENCODER_SHA256 = "d7336bdd45dc7d3b5e5a59f69f4dec2f71ddc32d111ebfa7ccdd1ba6bad00a6f"

# librosa's stft window: scipy.signal.get_window("hann", 400, fftbins=True), i.e. periodic Hann.
_WINDOW = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)


class EncoderIntegrityError(RuntimeError):
    """encoder.npz is not the file this module was written for: refuse rather than embed garbage."""


class VoiceEncoder:
    """The converted encoder. Get one with `load_encoder()`; it is immutable and thread-safe."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.mel_basis = arrays["mel_basis"].astype(np.float32)  # (40, 201)
        self._layers = [_prepare_layer(arrays, i) for i in range(3)]  # (weights, bias) each
        self._linear_w = arrays["linear.weight"].astype(np.float32).T.copy()  # (256, 256): x @ w
        self._linear_b = arrays["linear.bias"].astype(np.float32)

    def embed_windows(self, audio: np.ndarray, windows: list[tuple[float, float]]) -> np.ndarray:
        """One speaker embedding per window of 16 kHz mono float32 `audio`.

        `windows` are (start, end) in seconds. Returns (len(windows), 256) float32 rows of unit
        length, so a dot product of two rows is their cosine similarity. A window shorter than
        1.6 s is zero-padded to one partial; a longer one is split into 1.6 s partials with 50 %
        overlap whose embeddings are averaged and re-normalised. All partials of all windows go
        through the network in shared batches.

        The network is ~0.43 GFLOP a partial in many small matmuls: call it with BLAS limited to
        one thread (threadpoolctl.threadpool_limits(1, "blas")), as OpenBLAS's own threads make
        such matmuls many times slower on a busy machine. Thread-safe: all state is per call.
        """
        audio = _as_mono_f32(audio)
        partials, owner = [], []
        for index, (start, end) in enumerate(windows):
            mels = self._window_partials(_cut(audio, start, end))
            partials.append(mels)
            owner.extend([index] * len(mels))
        if not partials:
            return np.zeros((0, HIDDEN), np.float32)
        embeds = self.embed_partials(np.concatenate(partials))
        sums = np.zeros((len(windows), HIDDEN), np.float32)
        np.add.at(sums, np.asarray(owner), embeds)
        return _l2_normalise(sums)

    def embed_partials(self, mels: np.ndarray) -> np.ndarray:
        """Embeddings (n, 256) of n mel partials (n, 160, 40), as resemblyzer's forward()."""
        out = np.empty((len(mels), HIDDEN), np.float32)
        for first in range(0, len(mels), BATCH):
            chunk = mels[first : first + BATCH]
            # Time-major, so that each step's input is one contiguous (batch, 40) block.
            hidden = _lstm(np.ascontiguousarray(chunk.transpose(1, 0, 2), dtype=np.float32), self._layers)
            raw = np.maximum(hidden @ self._linear_w + self._linear_b, 0.0)
            out[first : first + len(chunk)] = _l2_normalise(raw)
        return out

    def _window_partials(self, samples: np.ndarray) -> np.ndarray:
        """The (n, 160, 40) mel partials of one window's samples."""
        # Level-normalise to -30 dBFS RMS. resemblyzer only raises quiet audio (increase_only);
        # we also lower loud audio, so a speaker's loudness (distance to the camera, shouting)
        # never drives the embedding, only the voice does.
        samples = _normalise_volume(samples, TARGET_DBFS)
        starts, padded_len = partial_starts(len(samples))
        samples = np.pad(samples, (0, max(0, padded_len - len(samples))))
        mel = _mel(samples, self.mel_basis)
        return np.stack([mel[s : s + PARTIAL_FRAMES] for s in starts])


def partial_starts(n_samples: int) -> tuple[list[int], int]:
    """First mel frame of each partial of a window of `n_samples`, and the length to zero-pad it to.

    resemblyzer's compute_partial_slices with a step of 80 frames: partials every 0.8 s while they
    fit; a last partial that runs past the end is kept when at least 75 % of it is real audio (or
    when it is the only one) and the audio is zero-padded to its end.
    """
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    steps = max(1, n_frames - PARTIAL_FRAMES + PARTIAL_STEP + 1)
    starts = list(range(0, steps, PARTIAL_STEP))
    last_start = starts[-1] * HOP
    coverage = (n_samples - last_start) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(starts) > 1:
        starts.pop()
    return starts, (starts[-1] + PARTIAL_FRAMES) * HOP


def mel_frames(audio: np.ndarray) -> np.ndarray:
    """Mel power spectrogram (T, 40) float32 of 16 kHz mono float32 audio, as resemblyzer's.

    Equals librosa 0.11's `melspectrogram(y=audio, sr=16000, n_fft=400, hop_length=160,
    n_mels=40).T` (no log): centred frames with zero padding, periodic Hann window, |STFT|^2.
    """
    return _mel(_as_mono_f32(audio), load_encoder().mel_basis)


_CACHE: dict[Path, VoiceEncoder] = {}
_CACHE_LOCK = threading.Lock()  # held while loading, so concurrent first calls load once


def load_encoder(path: Path | None = None) -> VoiceEncoder:
    """The encoder from `path` (default: the packaged encoder.npz), loaded once per process.

    Raises EncoderIntegrityError when the file's sha256 is not ENCODER_SHA256.
    """
    path = Path(path) if path is not None else ENCODER_PATH
    key = path.resolve()
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = VoiceEncoder(_read_verified(path))
        return _CACHE[key]


def _read_verified(path: Path) -> dict[str, np.ndarray]:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != ENCODER_SHA256:
        raise EncoderIntegrityError(
            f"{path}: sha256 {digest} is not the expected {ENCODER_SHA256}; "
            "reinstall the package or rerun scripts/convert_resemblyzer.py"
        )
    # Parse the bytes already hashed, not the file again: what is checked is what is loaded.
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _prepare_layer(arrays: dict[str, np.ndarray], i: int) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM layer as (weights (in + 256, 1024), bias (1024,)) for [x_t, h] @ weights + bias.

    Stacking W_ih and W_hh makes a step one matmul. PyTorch's gate order is i, f, g, o, sigmoid
    on i, f, o and tanh on g; since tanh(x) = 2 * sigmoid(2x) - 1 the g columns are doubled, and
    all columns are negated, so one exp gives all four gates: sigmoid(z) = 1 / (1 + exp(-z)).
    The two biases are summed.
    """
    scale = np.full(4 * HIDDEN, -1.0, np.float32)
    scale[2 * HIDDEN : 3 * HIDDEN] = -2.0
    stacked = np.concatenate([arrays[f"lstm.weight_ih_l{i}"], arrays[f"lstm.weight_hh_l{i}"]], axis=1)
    weights = (stacked.astype(np.float32).T * scale).copy()
    bias = arrays[f"lstm.bias_ih_l{i}"].astype(np.float32) + arrays[f"lstm.bias_hh_l{i}"].astype(np.float32)
    return weights, bias * scale


def _lstm(x: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The stacked LSTM over time-major x (T, B, 40) from zero state; the last layer's final h.

    Step by step through all layers, each layer one (B, in + 256) @ (in + 256, 1024) matmul over
    the whole batch. Each layer's [input | h] row lives in one preallocated buffer, so the
    "concatenation" is two in-place copies, and the element-wise work runs in place too: at
    these sizes, allocations and passes over memory cost as much as the arithmetic.
    """
    steps, batch, n_in = x.shape
    H = HIDDEN
    widths = [w.shape[0] - H for w, _ in layers]  # each layer's input width: 40, 256, 256
    rows = [np.zeros((batch, width + H), np.float32) for width in widths]
    cells = [np.zeros((batch, H), np.float32) for _ in layers]
    gates = np.empty((batch, 4 * H), np.float32)
    scratch = np.empty((batch, H), np.float32)
    i_gate, f_gate, g_gate, o_gate = (gates[:, k * H : (k + 1) * H] for k in range(4))
    with np.errstate(over="ignore"):  # exp overflowing to inf is right: that sigmoid is 0
        for t in range(steps):
            rows[0][:, :n_in] = x[t]
            for k, (weights, bias) in enumerate(layers):
                np.matmul(rows[k], weights, out=gates)
                gates += bias
                np.exp(gates, out=gates)
                gates += 1.0
                np.reciprocal(gates, out=gates)  # all four gates are now sigmoids
                g_gate *= 2.0
                g_gate -= 1.0  # and this one the tanh of the cell input
                np.multiply(i_gate, g_gate, out=scratch)
                cell = cells[k]
                cell *= f_gate
                cell += scratch
                np.tanh(cell, out=scratch)
                h = rows[k][:, widths[k] :]
                np.multiply(o_gate, scratch, out=h)  # h goes straight into next step's row
                if k + 1 < len(layers):
                    rows[k + 1][:, :H] = h
    return rows[-1][:, widths[-1] :].copy()


def _mel(samples: np.ndarray, mel_basis: np.ndarray) -> np.ndarray:
    # center=True with librosa >= 0.10's default pad_mode="constant": n_fft // 2 zeros each side.
    padded = np.pad(samples, N_FFT // 2)
    frames = sliding_window_view(padded, N_FFT)[::HOP]
    spectrum = np.fft.rfft(frames * _WINDOW, axis=1)
    # librosa keeps the STFT in complex64 for float32 audio, so its power is float32.
    power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
    return power @ mel_basis.T


def _normalise_volume(samples: np.ndarray, target_dbfs: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    if rms == 0.0:
        return samples  # digital silence: nothing to scale
    return (samples * (10.0 ** (target_dbfs / 20.0) / rms)).astype(np.float32)


def _cut(audio: np.ndarray, start: float, end: float) -> np.ndarray:
    first = max(0, round(float(start) * SAMPLE_RATE))
    last = min(len(audio), round(float(end) * SAMPLE_RATE))
    if last <= first:
        raise ValueError(f"window ({start}, {end}) s holds no audio of the {len(audio) / SAMPLE_RATE:.2f} s")
    return audio[first:last]


def _as_mono_f32(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"expected mono audio (1-D), got shape {audio.shape}")
    return audio


def _l2_normalise(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.maximum(norms, 1e-12)).astype(np.float32)
