"""Who said each word: speaker embeddings over the clip's speech, clustered per clip; the camera
wearer is the officer.

1. The words are cut into windows of at most MAX_WINDOW_SECONDS, at pauses and word boundaries;
   each is embedded once by resemblyzer's voice encoder (media.voice_encoder, NumPy), and its
   loudness is measured.
2. Agglomerative clustering (average linkage, cosine) merges windows while the clusters are more
   alike than MERGE_SIMILARITY, then every window moves to its nearest centroid; clusters with less
   than MIN_SPEAKER_SECONDS of speech join their nearest neighbour.
3. The officer is the cluster that matches their enrolled voiceprint, when there is one; otherwise
   the loudest (a body camera's microphone is on the wearer's chest), with the most speech as the
   tie-break. Everyone else is "person 1", "person 2", ... in order of first speech.
4. Each word takes the speaker of its window; a Whisper segment is split where its speaker
   changes; a segment's speaker_confidence is how much nearer its words are to their own speaker
   than to the next best.
"""

from dataclasses import dataclass, replace

import numpy as np
from threadpoolctl import threadpool_limits

from media.audio import SAMPLE_RATE
from media.transcribe import Segment, Transcript, Word

OFFICER = "officer"
MAX_WINDOW_SECONDS = 1.6  # one partial of the encoder
PAUSE_SECONDS = 0.3  # a pause this long between words may be a change of speaker: a new window
MERGE_SIMILARITY = 0.65
MIN_SPEAKER_SECONDS = 2.0
VOICEPRINT_MATCH = 0.80  # cosine at which a cluster is the enrolled officer, whatever its loudness
LOUDNESS_PERCENTILE = 90  # a window's level: its louder frames, so pauses inside it don't count


@dataclass
class Speakers:
    """The clustering of one clip: per window its cluster; per cluster its centroid and label."""

    windows: list[tuple[float, float]]
    cluster_of: np.ndarray  # per window
    similarity: np.ndarray  # windows x clusters, cosine
    labels: list[str]  # per cluster
    centroids: np.ndarray  # clusters x 256, unit rows
    loudness_db: list[float]  # per cluster
    seconds: list[float]  # per cluster

    def summary(self) -> list[dict]:
        return [{"speaker": label, "seconds": round(self.seconds[k], 1),
                 "loudness_db": round(self.loudness_db[k], 1),
                 "centroid": [round(float(x), 4) for x in self.centroids[k]]}  # refines voiceprints
                for k, label in sorted(enumerate(self.labels), key=lambda kv: _label_order(kv[1]))]

    def centroid_of(self, label: str) -> np.ndarray | None:
        return self.centroids[self.labels.index(label)] if label in self.labels else None


def diarize(transcript: Transcript, audio: np.ndarray, encoder, voiceprint: np.ndarray | None = None
            ) -> tuple[Transcript, Speakers | None]:
    """The transcript with a speaker on every segment and word, and the clustering behind it."""
    windows = speech_windows(transcript)
    if not windows:
        return transcript, None
    # One BLAS thread: the encoder's many small matmuls ran 30x slower when OpenBLAS spread each of
    # them over busy cores (Whisper's own threads are CTranslate2's, not BLAS's).
    with threadpool_limits(1, user_api="blas"):
        embeddings = encoder.embed_windows(audio, windows)
    loudness = np.array([_level_db(audio, w) for w in windows])
    speakers = cluster(windows, embeddings, loudness, voiceprint)
    segments = [part for segment in transcript.segments for part in _attribute(segment, speakers)]
    return replace(transcript, segments=segments, speakers=speakers.summary()), speakers


def speech_windows(transcript: Transcript) -> list[tuple[float, float]]:
    """The words cut into pieces of about a partial's length (the encoder's 1.6 s), at word
    boundaries and at pauses (where turns change), each embedded once: no audio is encoded twice."""
    words = sorted((w.start, w.end) for s in transcript.segments for w in s.words)
    windows: list[list[float]] = []
    for start, end in words:
        last = windows[-1] if windows else None
        if last and start - last[1] < PAUSE_SECONDS and end - last[0] <= MAX_WINDOW_SECONDS:
            last[1] = max(last[1], end)
        else:
            windows.append([start, end])
    return [(a, b) for a, b in windows]


def cluster(windows, embeddings: np.ndarray, loudness: np.ndarray, voiceprint: np.ndarray | None) -> Speakers:
    """Windows into speakers, labelled (see the module's docstring)."""
    members = _agglomerate(embeddings)
    cluster_of = np.empty(len(windows), dtype=int)
    for k, group in enumerate(members):
        cluster_of[group] = k
    cluster_of = _absorb_small(_reassign(embeddings, cluster_of), embeddings, windows)
    centroids = _centroids(embeddings, cluster_of)
    similarity = embeddings @ centroids.T
    seconds = [_covered_seconds([windows[i] for i in np.flatnonzero(cluster_of == k)])
               for k in range(len(centroids))]
    loud = [float(np.median(loudness[cluster_of == k])) for k in range(len(centroids))]
    labels = _label(cluster_of, centroids, loud, seconds, voiceprint)
    return Speakers(list(windows), cluster_of, similarity, labels, centroids, loud, seconds)


def _agglomerate(embeddings: np.ndarray) -> list[list[int]]:
    """Average-linkage agglomerative clustering on cosine similarity, stopped at MERGE_SIMILARITY."""
    groups = [[i] for i in range(len(embeddings))]
    sums = embeddings.astype(np.float64).copy()  # per group: the sum of its unit embeddings
    pair = embeddings @ embeddings.T  # the mean pairwise similarity of two groups = sums_a·sums_b/(na·nb)
    sizes = np.ones(len(groups))
    link = pair.astype(np.float64)
    np.fill_diagonal(link, -np.inf)
    alive = np.ones(len(groups), dtype=bool)
    while alive.sum() > 1:
        a, b = np.unravel_index(np.argmax(link), link.shape)
        if link[a, b] < MERGE_SIMILARITY:
            break
        groups[a] += groups[b]
        sums[a] += sums[b]
        sizes[a] += sizes[b]
        alive[b] = False
        link[b, :] = link[:, b] = -np.inf
        link[a, :] = np.where(alive, (sums @ sums[a]) / (sizes * sizes[a]), -np.inf)
        link[:, a] = link[a, :]
        link[a, a] = -np.inf
    return [groups[i] for i in np.flatnonzero(alive)]


def _reassign(embeddings: np.ndarray, cluster_of: np.ndarray, rounds: int = 3) -> np.ndarray:
    """A few k-means steps from the agglomerative result: windows near a boundary find their speaker."""
    for _ in range(rounds):
        centroids = _centroids(embeddings, cluster_of)
        moved = np.argmax(embeddings @ centroids.T, axis=1)
        if np.array_equal(moved, cluster_of):
            break
        cluster_of = _renumber(moved)
    return cluster_of


def _absorb_small(cluster_of: np.ndarray, embeddings: np.ndarray, windows) -> np.ndarray:
    """A 'speaker' with under MIN_SPEAKER_SECONDS of speech is noise or a cough: it joins the nearest."""
    while True:
        ks = np.unique(cluster_of)
        if len(ks) <= 1:
            return cluster_of
        seconds = {k: _covered_seconds([windows[i] for i in np.flatnonzero(cluster_of == k)]) for k in ks}
        small = min(ks, key=lambda k: seconds[k])
        if seconds[small] >= MIN_SPEAKER_SECONDS:
            return cluster_of
        centroids = _centroids(embeddings, cluster_of)
        rows = np.flatnonzero(cluster_of == small)
        scores = embeddings[rows] @ centroids.T
        scores[:, small] = -np.inf
        cluster_of = cluster_of.copy()
        cluster_of[rows] = np.argmax(scores, axis=1)
        cluster_of = _renumber(cluster_of)


def _renumber(cluster_of: np.ndarray) -> np.ndarray:
    _, dense = np.unique(cluster_of, return_inverse=True)
    return dense


def _centroids(embeddings: np.ndarray, cluster_of: np.ndarray) -> np.ndarray:
    sums = np.stack([embeddings[cluster_of == k].sum(axis=0) for k in range(cluster_of.max() + 1)])
    return sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)


def _label(cluster_of, centroids, loudness, seconds, voiceprint) -> list[str]:
    officer = _officer_cluster(centroids, loudness, seconds, voiceprint)
    first_seen = [int(np.flatnonzero(cluster_of == k)[0]) for k in range(len(centroids))]
    others = sorted((k for k in range(len(centroids)) if k != officer), key=lambda k: first_seen[k])
    labels = [""] * len(centroids)
    labels[officer] = OFFICER
    for n, k in enumerate(others, start=1):
        labels[k] = f"person {n}"
    return labels


def _officer_cluster(centroids, loudness, seconds, voiceprint) -> int:
    if voiceprint is not None:
        match = centroids @ voiceprint
        if match.max() >= VOICEPRINT_MATCH:
            return int(np.argmax(match))
    return max(range(len(centroids)), key=lambda k: (round(loudness[k]), seconds[k]))


def _attribute(segment: Segment, speakers: Speakers) -> list[Segment]:
    """The segment's words labelled by the windows over them; split where the speaker changes."""
    if not segment.words:
        return [replace(segment, speaker=_vote(speakers, segment.start, segment.end)[0], speaker_confidence=0.0)]
    votes = [_vote(speakers, w.start, w.end) for w in segment.words]
    labels = _smooth([label for label, _ in votes], segment.words)
    parts: list[Segment] = []
    run: list[tuple[Word, float]] = []
    for word, label, (_, confidence) in zip(segment.words, labels, votes):
        if run and run[0][0].speaker != label:
            parts.append(_part(segment, run))
            run = []
        run.append((replace(word, speaker=label), confidence))
    parts.append(_part(segment, run))
    return parts


def _part(segment: Segment, run: list[tuple[Word, float]]) -> Segment:
    words = [w for w, _ in run]
    confidence = round(float(np.mean([c for _, c in run])), 3)
    whole = len(words) == len(segment.words)
    return replace(segment, start=segment.start if whole else words[0].start,
                   end=segment.end if whole else words[-1].end,
                   text=segment.text if whole else " ".join(w.word for w in words),
                   words=words, speaker=words[0].speaker, speaker_confidence=confidence)


def _vote(speakers: Speakers, start: float, end: float) -> tuple[str, float]:
    """The speaker of [start, end]: the windows over it, weighted by overlap (the nearest window if
    none covers it); confidence from the margin between the best and the second speaker."""
    overlap = np.array([max(0.0, min(end, b) - max(start, a)) for a, b in speakers.windows])
    if overlap.max() <= 0:
        middle = (start + end) / 2
        overlap = np.zeros(len(speakers.windows))
        overlap[np.argmin([abs((a + b) / 2 - middle) for a, b in speakers.windows])] = 1.0
    weights = overlap / overlap.sum()
    mean_similarity = weights @ speakers.similarity  # per cluster
    ranked = np.sort(mean_similarity)[::-1]
    best = int(np.argmax(mean_similarity))
    margin = ranked[0] - ranked[1] if len(ranked) > 1 else 1.0
    return speakers.labels[best], float(np.clip(margin / 0.2, 0.0, 1.0))


def _smooth(labels: list[str], words: list[Word], min_seconds: float = 0.6) -> list[str]:
    """A run of words shorter than min_seconds between two runs of the same speaker is that speaker:
    a window straddling a turn, not a one-word interruption inside a Whisper segment."""
    labels = list(labels)
    runs = _runs(labels)
    for n in range(1, len(runs) - 1):
        (i, j), before, after = runs[n], runs[n - 1], runs[n + 1]
        if labels[before[0]] == labels[after[0]] and words[j - 1].end - words[i].start < min_seconds:
            labels[i:j] = [labels[before[0]]] * (j - i)
    return labels


def _runs(labels: list[str]) -> list[tuple[int, int]]:
    runs, start = [], 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            runs.append((start, i))
            start = i
    return runs


def _covered_seconds(windows: list[tuple[float, float]]) -> float:
    total, reach = 0.0, -1.0
    for a, b in sorted(windows):
        total += max(0.0, b - max(a, reach))
        reach = max(reach, b)
    return total


def _level_db(audio: np.ndarray, window: tuple[float, float]) -> float:
    piece = audio[int(window[0] * SAMPLE_RATE):int(window[1] * SAMPLE_RATE)]
    if len(piece) < 400:
        return -120.0
    frames = piece[: len(piece) // 400 * 400].reshape(-1, 400).astype(np.float64)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    return float(20 * np.log10(max(np.percentile(rms, LOUDNESS_PERCENTILE), 1e-6)))


def _label_order(label: str) -> tuple[int, int]:
    return (0, 0) if label == OFFICER else (1, int(label.split()[-1]))

