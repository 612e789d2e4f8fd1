"""Who said each word: speaker embeddings over the clip's speech, clustered per clip; the camera
wearer is the officer.

1. The words are cut into windows of at most MAX_WINDOW_SECONDS, at pauses and word boundaries;
   each is embedded once by resemblyzer's voice encoder (media.voice_encoder, NumPy), and its
   loudness is measured.
2. Agglomerative clustering (average linkage, cosine) merges windows into fine clusters while they
   are more alike than FINE_SIMILARITY, then every window moves to its nearest centroid; clusters
   with less than MIN_SPEAKER_SECONDS of speech join their nearest neighbour.
3. The officer is the cluster that matches their enrolled voiceprint, when there is one; otherwise
   the loudest (a body camera's microphone is on the wearer's chest), with the most speech as the
   tie-break; every cluster as loud and not unlike it is the officer too. The other clusters are
   grouped into people at PERSON_SIMILARITY: "person 1", "person 2", ... in order of first speech.
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
MIN_WINDOW_SECONDS = 0.5
PAUSE_SECONDS = 0.3  # a pause this long between words may be a change of speaker: a new window
# Fine clusters (FINE_SIMILARITY) are what loudness labels: a voice heard near and far, or through
# noise, splits into several, and each is judged by how loud it is. The civilians' fine clusters are
# then grouped into people at PERSON_SIMILARITY. Both measured on bench/asr's dev split.
FINE_SIMILARITY = 0.90
PERSON_SIMILARITY = 0.65
MIN_SPEAKER_SECONDS = 2.0
# The wearer's voice often comes out as two clusters (near and turned away, shouting and calm): a
# cluster as loud as the officer's, within WEARER_MARGIN_DB, and not unlike it is the officer too.
WEARER_MARGIN_DB = 4.0
WEARER_SIMILARITY = 0.6  # different voices measured 0.52-0.67 apart, one voice 0.75+
QUIET_GAP_DB = 5.0  # a window this much quieter than the officer's median is not the officer
LOUD_GAP_DB = 2.0  # one within this of it is
OTHER_LEVEL_DB = 3.0  # a quiet window this near another speaker's median level is theirs
# A loud civilian's fine cluster can join the wearer's (as loud and not unlike it): its windows then
# go to the voice they are nearer by NEAREST_MARGIN, unless they are as loud as the officer's median
# (within NEAREST_GAP_DB), where the officer wins. Measured on the dev split.
NEAREST_MARGIN = 0.04
NEAREST_GAP_DB = 2.0
VOICEPRINT_MATCH = 0.80  # cosine at which a cluster is the enrolled officer, whatever its loudness
ENROLL_MARGIN_DB = 4.0  # louder than everyone else by this: sure enough to refine the voiceprint
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
        return [
            {
                "speaker": label,
                "seconds": round(self.seconds[k], 1),
                "loudness_db": round(self.loudness_db[k], 1),
                "centroid": [round(float(x), 4) for x in self.centroids[k]],
            }  # refines voiceprints
            for k, label in sorted(enumerate(self.labels), key=lambda kv: _label_order(kv[1]))
        ]

    def centroid_of(self, label: str) -> np.ndarray | None:
        return self.centroids[self.labels.index(label)] if label in self.labels else None

    def officer_voice(self) -> np.ndarray | None:
        """The officer's centroid when this clip is sure of it (louder than everyone else by
        ENROLL_MARGIN_DB, or alone): what may refine a voiceprint without teaching it a stranger."""
        if OFFICER not in self.labels:
            return None
        k = self.labels.index(OFFICER)
        others = [level for n, level in enumerate(self.loudness_db) if n != k]
        sure = not others or self.loudness_db[k] - max(others) >= ENROLL_MARGIN_DB
        return self.centroids[k] if sure else None


def diarize(transcript: Transcript, audio: np.ndarray, encoder, voiceprint=None) -> tuple[Transcript, Speakers | None]:
    """The transcript with a speaker on every segment and word, and the clustering behind it."""
    windows = speech_windows(transcript, len(audio) / SAMPLE_RATE)
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


def speech_windows(transcript: Transcript, duration: float) -> list[tuple[float, float]]:
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
    return [_at_least(a, b, duration) for a, b in windows]


def _at_least(start: float, end: float, duration: float) -> tuple[float, float]:
    """A window of MIN_WINDOW_SECONDS or more, within the audio (Whisper gives some words no length)."""
    middle = min(max((start + end) / 2, 0.0), duration)
    half = max(end - start, MIN_WINDOW_SECONDS) / 2
    return max(0.0, middle - half), min(duration, middle + half)


def cluster(windows, embeddings: np.ndarray, loudness: np.ndarray, voiceprint: np.ndarray | None) -> Speakers:
    """Windows into speakers, labelled (see the module's docstring)."""
    fine = np.empty(len(windows), dtype=int)
    for k, group in enumerate(_agglomerate(embeddings, FINE_SIMILARITY)):
        fine[group] = k
    fine = _absorb_small(_reassign(embeddings, fine), embeddings, windows)
    labels, enrolled = _label(fine, *_describe(embeddings, loudness, windows, fine), voiceprint)
    names = sorted(set(labels), key=_label_order)
    speaker_of = np.array([names.index(labels[k]) for k in fine])
    if not enrolled:  # the voiceprint knows the voice; loudness only guesses it
        speaker_of = _by_level(speaker_of, embeddings, loudness)
        speaker_of = _nearest_voice(speaker_of, embeddings, loudness)
    kept = sorted(set(speaker_of.tolist()))  # the level may have emptied a speaker
    names = [names[k] for k in kept]
    speaker_of = np.searchsorted(kept, speaker_of)
    centroids, loud, seconds = _describe(embeddings, loudness, windows, speaker_of)
    return Speakers(list(windows), speaker_of, embeddings @ centroids.T, names, centroids, loud, seconds)


def _by_level(speaker_of: np.ndarray, embeddings: np.ndarray, loudness: np.ndarray) -> np.ndarray:
    """A window far quieter than the officer's voice is someone else's, one as loud is the officer's:
    the level settles what the voice alone left close."""
    officer = speaker_of == 0  # names are sorted: "officer" first
    if not officer.any() or officer.all():
        return speaker_of
    level = float(np.median(loudness[officer]))
    centroids = _centroids(embeddings, speaker_of)
    moved = speaker_of.copy()
    nearest = np.argmax(embeddings @ centroids.T, axis=1)
    others = np.delete(embeddings @ centroids.T, 0, axis=1)
    nearest_other = np.argmax(others, axis=1) + 1
    quiet = officer & (loudness < level - QUIET_GAP_DB)
    # Quiet and nearer someone else's voice, or as quiet as someone else is: theirs. (Quiet alone is
    # not enough: a wearer who turns away drops as much, and a monologue would grow false people.)
    other_levels = np.array([np.median(loudness[speaker_of == k]) for k in range(1, centroids.shape[0])])
    like_other_level = np.abs(loudness[:, None] - other_levels[None, :]).min(axis=1) <= OTHER_LEVEL_DB
    moved[quiet & (nearest != 0)] = nearest[quiet & (nearest != 0)]
    as_quiet = quiet & (nearest == 0) & like_other_level
    moved[as_quiet] = nearest_other[as_quiet]
    like_officer = embeddings @ centroids[0] >= WEARER_SIMILARITY  # loud alone is not enough
    moved[~officer & (loudness > level - LOUD_GAP_DB) & like_officer] = 0
    return moved


def _nearest_voice(speaker_of: np.ndarray, embeddings: np.ndarray, loudness: np.ndarray) -> np.ndarray:
    """A window labelled officer that is clearly nearer another speaker's voice, and quieter than
    the officer, is that speaker's."""
    officer = speaker_of == 0
    if not officer.any() or officer.all():
        return speaker_of
    similarity = embeddings @ _centroids(embeddings, speaker_of).T
    rows = np.arange(len(similarity))
    nearest = np.argmax(similarity, axis=1)
    clearly_nearer = similarity[rows, nearest] - similarity[rows, speaker_of] > NEAREST_MARGIN
    quieter = loudness < float(np.median(loudness[officer])) - NEAREST_GAP_DB
    move = officer & (nearest != 0) & clearly_nearer & quieter
    moved = speaker_of.copy()
    moved[move] = nearest[move]
    return moved


def _describe(embeddings, loudness, windows, cluster_of) -> tuple[np.ndarray, list[float], list[float]]:
    """Per cluster: its centroid, its median loudness and its seconds of speech."""
    ks = range(cluster_of.max() + 1)
    seconds = [_covered_seconds([windows[i] for i in np.flatnonzero(cluster_of == k)]) for k in ks]
    return _centroids(embeddings, cluster_of), [float(np.median(loudness[cluster_of == k])) for k in ks], seconds


def _agglomerate(embeddings: np.ndarray, threshold: float) -> list[list[int]]:
    """Average-linkage agglomerative clustering on cosine similarity, stopped at `threshold`."""
    groups = [[i] for i in range(len(embeddings))]
    sums = embeddings.astype(np.float64).copy()  # per group: the sum of its unit embeddings
    pair = embeddings @ embeddings.T  # the mean pairwise similarity of two groups = sums_a·sums_b/(na·nb)
    sizes = np.ones(len(groups))
    link = pair.astype(np.float64)
    np.fill_diagonal(link, -np.inf)
    alive = np.ones(len(groups), dtype=bool)
    while alive.sum() > 1:
        a, b = np.unravel_index(np.argmax(link), link.shape)
        if link[a, b] < threshold:
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


def _label(cluster_of, centroids, loudness, seconds, voiceprint) -> tuple[list[str], bool]:
    """A label per cluster, and whether the enrolled voiceprint (rather than loudness) found the officer."""
    enrolled = _matching_voiceprint(centroids, voiceprint)
    wearer = enrolled or _loudest_voice(centroids, loudness, seconds)
    others = [k for k in range(len(centroids)) if k not in wearer]
    people = _agglomerate(centroids[others], PERSON_SIMILARITY) if others else []
    first_seen = [min(int(np.flatnonzero(cluster_of == others[i])[0]) for i in group) for group in people]
    labels = [OFFICER] * len(centroids)
    for n, g in enumerate(sorted(range(len(people)), key=lambda g: first_seen[g]), start=1):
        for i in people[g]:
            labels[others[i]] = f"person {n}"
    return labels, bool(enrolled)


def _matching_voiceprint(centroids, voiceprint) -> set[int]:
    if voiceprint is None:
        return set()
    return {int(k) for k in np.flatnonzero(centroids @ np.asarray(voiceprint, np.float32) >= VOICEPRINT_MATCH)}


def _loudest_voice(centroids, loudness, seconds) -> set[int]:
    """The loudest cluster (the most speech breaks a tie), and every cluster as loud and not unlike it."""
    officer = max(range(len(centroids)), key=lambda k: (round(loudness[k]), seconds[k]))
    alike = centroids @ centroids[officer]
    return {
        k
        for k in range(len(centroids))
        if k == officer or (loudness[k] >= loudness[officer] - WEARER_MARGIN_DB and alike[k] >= WEARER_SIMILARITY)
    }


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
    return replace(
        segment,
        start=segment.start if whole else words[0].start,
        end=segment.end if whole else words[-1].end,
        text=segment.text if whole else " ".join(w.word for w in words),
        words=words,
        speaker=words[0].speaker,
        speaker_confidence=confidence,
    )


def _vote(speakers: Speakers, start: float, end: float) -> tuple[str, float]:
    """The speaker of [start, end]: the windows over it, weighted by overlap (the nearest window if
    none covers it); confidence from how much nearer that speaker's voice is than the next one's."""
    overlap = np.array([max(0.0, min(end, b) - max(start, a)) for a, b in speakers.windows])
    if overlap.max() <= 0:
        middle = (start + end) / 2
        overlap = np.zeros(len(speakers.windows))
        overlap[np.argmin([abs((a + b) / 2 - middle) for a, b in speakers.windows])] = 1.0
    weights = overlap / overlap.sum()
    best = int(np.argmax(np.bincount(speakers.cluster_of, weights=weights, minlength=len(speakers.labels))))
    similarity = weights @ speakers.similarity  # per speaker
    others = np.delete(similarity, best)
    margin = similarity[best] - others.max() if len(others) else 1.0
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
    piece = audio[int(window[0] * SAMPLE_RATE) : int(window[1] * SAMPLE_RATE)]
    if len(piece) < 400:
        return -120.0
    frames = piece[: len(piece) // 400 * 400].reshape(-1, 400).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return float(20 * np.log10(max(np.percentile(rms, LOUDNESS_PERCENTILE), 1e-6)))


def _label_order(label: str) -> tuple[int, int]:
    return (0, 0) if label == OFFICER else (1, int(label.split()[-1]))
