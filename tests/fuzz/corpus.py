"""A deterministic corpus of hostile media, derived from the tiny fixtures in tests/fixtures.

`build_corpus(fixtures, seed)` returns the same files for the same seed and fixtures: byte-level
mutations (bit flips, overwritten runs, truncations, header splices, concatenations, wrong
extensions, empty and tiny files, giant declared sizes and counts, impossible durations,
polyglots with playlists that name a local secret) and, where an ffmpeg is given, a few files it
makes: a picture size that changes inside the stream, local paths in metadata. With ffmpeg the
two speech fixtures are first cut to their first EXCERPT_SECONDS (a stream copy, so the structure
is the fixture's): a mutation that still decodes is transcribed, and Whisper on 15 s of speech
would make the corpus test slow for no more coverage. Each file says what was done to it, so a
failure names its recipe.

    python -m tests.fuzz OUT_DIR [--seed N] [--secret PATH]   writes the corpus to OUT_DIR
"""

import random
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz.containers import (
    find_boxes,
    find_elements,
    jpeg_frame_headers,
    mp4_boxes,
    riff_chunks,
)

SOURCES = ("silent.mkv", "mjpeg_pcm.avi", "hevc_rotated.mov", "speech.mp4")
SPEECH_SOURCES = ("hevc_rotated.mov", "speech.mp4")
EXCERPT_SECONDS = 3
EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m3u8", ".txt", "")
# Names a client might send: never to be used as paths.
HOSTILE_NAMES = (
    "../../../etc/passwd",
    "..\\..\\boot.ini",
    "/etc/shadow.mp4",
    "clip\x00.mp4",
    "a" * 300 + ".mp4",
    "évidence ü.mkv",
    "con.avi",
    " .mp4",
)
LOCAL_FILES = ("/etc/passwd", "/etc/hostname", "/proc/self/environ")
# What the cap test derives a mid-stream change from: just over the default 4096x4096 cap.
OVERSIZE = 4128


@dataclass(frozen=True)
class Hostile:
    name: str  # the file name the upload claims (may itself be hostile)
    kind: str  # the mutation family
    recipe: str  # what exactly was done, to reproduce a failure
    data: bytes


@dataclass
class _Maker:
    """Derives hostile files from the sources, one seeded generator per file."""

    sources: dict[str, bytes]
    seed: int
    secret: str
    items: list[Hostile]

    def rng(self, *key) -> random.Random:
        return random.Random(":".join(map(str, (self.seed, *key))))

    def add(self, kind: str, recipe: str, data: bytes, name: str | None = None) -> None:
        index = len(self.items)
        self.items.append(Hostile(name or f"{index:03d}-{kind}.mp4", kind, recipe, bytes(data)))


def build_corpus(
    fixtures: Path, seed: int = 0, ffmpeg: str | None = None, secret: Path = Path("/etc/passwd")
) -> list[Hostile]:
    """The corpus for this seed: at least 300 files, each a few hundred KB at most."""
    maker = _Maker(_sources(fixtures, ffmpeg), seed, str(secret), [])
    for family in FAMILIES:
        family(maker)
    if ffmpeg:
        made_by_ffmpeg(maker, ffmpeg)
    return maker.items


def _sources(fixtures: Path, ffmpeg: str | None) -> dict[str, bytes]:
    sources = {name: (fixtures / name).read_bytes() for name in SOURCES}
    if ffmpeg:
        with tempfile.TemporaryDirectory(prefix="bestpart-fuzz-") as folder:
            for name in SPEECH_SOURCES:
                sources[name] = _ffmpeg(
                    ffmpeg,
                    Path(folder),
                    ["-i", str(fixtures / name), "-t", str(EXCERPT_SECONDS), "-c", "copy", "-map_metadata", "0"],
                    name,
                )
    return sources


# --- byte mutations ---------------------------------------------------------------------------


def bit_flips(m: _Maker) -> None:
    """Flips anywhere, or only in the first 12 KB where the headers and the index live."""
    for source, data in m.sources.items():
        for i in range(22):
            rng = m.rng("flip", source, i)
            span = len(data) if i % 2 else min(len(data), 12_000)
            flips = rng.choice((1, 2, 8, 32, 128))
            out = bytearray(data)
            for _ in range(flips):
                out[rng.randrange(span)] ^= 1 << rng.randrange(8)
            m.add("bitflip", f"{source}: {flips} bits in the first {span} bytes", out)


def overwritten_runs(m: _Maker) -> None:
    for source, data in m.sources.items():
        for i in range(6):
            rng = m.rng("run", source, i)
            at, length = rng.randrange(len(data)), rng.choice((4, 64, 1024, 16_384))
            fill = rng.choice((b"\x00", b"\xff", None))
            run = fill * length if fill else rng.randbytes(length)
            out = bytearray(data)
            out[at : at + length] = run[: len(out) - at]
            m.add("overwrite", f"{source}: {length} bytes of {fill!r} at {at}", out)


def truncations(m: _Maker) -> None:
    for source, data in m.sources.items():
        for fraction in (0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.999):
            cut = max(1, int(len(data) * fraction))
            m.add("truncate", f"{source}: first {cut} of {len(data)} bytes", data[:cut])


def splices(m: _Maker) -> None:
    """One container's header on another's body."""
    names = list(m.sources)
    for i in range(20):
        rng = m.rng("splice", i)
        head, body = rng.sample(names, 2)
        at = rng.choice((8, 64, 512, 4096, 11_000))
        m.add("splice", f"first {at} bytes of {head} + rest of {body}", m.sources[head][:at] + m.sources[body][at:])


def concatenations(m: _Maker) -> None:
    names = list(m.sources)
    for i, (first, second) in enumerate((a, b) for a in names for b in names):
        if i % 2 == 0 or first == second:
            m.add("concat", f"{first} + {second}", m.sources[first] + m.sources[second])


def wrong_names(m: _Maker) -> None:
    """Whole fixtures under another extension, or a hostile name (a duplicate upload after the first)."""
    for i, (source, data) in enumerate(m.sources.items()):
        m.add("wrong-extension", f"{source} named {EXTENSIONS[i]!r}", data, name=f"clip{EXTENSIONS[i]}")
        m.add("hostile-name", f"{source} named {HOSTILE_NAMES[i]!r}", data, name=HOSTILE_NAMES[i])
    for i, name in enumerate(HOSTILE_NAMES[4:]):
        m.add(
            "hostile-name",
            f"one flipped byte, named {name!r}",
            _flip_byte(m.sources["silent.mkv"], 20_000 - i),
            name=name,
        )


def empty_and_tiny(m: _Maker) -> None:
    for content in (
        b"",
        b"\x00",
        b"ftyp",
        b"\x00\x00\x00\x08ftyp",
        b"\x1a\x45\xdf\xa3",
        b"RIFF\x00\x00\x00\x00AVI ",
        b"\x00\x00\x00\x00moov",
        b"\x00" * 4096,
    ):
        m.add("tiny", f"{len(content)} bytes: {content[:16]!r}", content)


def magic_and_noise(m: _Maker) -> None:
    magics = (
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01",
        b"RIFF\xff\xff\x00\x00AVI LIST",
        b"\x00\x00\x00\x08wide\x00\x00\x00\x10mdat",
    )
    for i in range(12):
        rng = m.rng("noise", i)
        m.add(
            "noise",
            f"magic {i % len(magics)} + random bytes",
            magics[i % len(magics)] + rng.randbytes(rng.choice((100, 5000, 60_000))),
        )


# --- declared sizes, counts and durations -----------------------------------------------------

HUGE = (0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)
# (box path, offset in its body, what the field is); full boxes start with 4 bytes of version/flags.
MP4_FIELDS = (
    ("moov/mvhd", 12, "timescale"),
    ("moov/mvhd", 16, "duration"),
    ("moov/trak/tkhd", 20, "duration"),
    ("moov/trak/tkhd", 76, "width"),
    ("moov/trak/tkhd", 80, "height"),
    ("moov/trak/mdia/mdhd", 12, "timescale"),
    ("moov/trak/mdia/mdhd", 16, "duration"),
    ("moov/trak/mdia/minf/stbl/stsd", 4, "entry count"),
    ("moov/trak/mdia/minf/stbl/stsd", 32, "avc1 width+height"),
    ("moov/trak/mdia/minf/stbl/stsz", 4, "sample size"),
    ("moov/trak/mdia/minf/stbl/stsz", 8, "sample count"),
    ("moov/trak/mdia/minf/stbl/stsz", 12, "first sample's size"),
    ("moov/trak/mdia/minf/stbl/stts", 4, "entry count"),
    ("moov/trak/mdia/minf/stbl/stts", 8, "sample count"),
    ("moov/trak/mdia/minf/stbl/stts", 12, "sample delta"),
    ("moov/trak/mdia/minf/stbl/stco", 4, "chunk count"),
    ("moov/trak/mdia/minf/stbl/stco", 8, "first chunk offset"),
    ("moov/trak/mdia/minf/stbl/stsc", 4, "entry count"),
    ("moov/trak/mdia/minf/stbl/stsc", 12, "samples per chunk"),
    ("moov/trak/edts/elst", 8, "segment duration"),
    ("moov/trak/edts/elst", 12, "media time"),
)


def mp4_fields(m: _Maker) -> None:
    """Giant, zero and negative values in the fields a demuxer sizes its tables by."""
    for source in ("speech.mp4", "hevc_rotated.mov"):
        data = m.sources[source]
        for i, (path, offset, what) in enumerate(MP4_FIELDS):
            boxes = find_boxes(data, path)
            if not boxes:
                continue
            rng = m.rng("mp4field", source, i)
            box, value = rng.choice(boxes), rng.choice(HUGE)
            out = _put(data, box.body + offset, struct.pack(">I", value))
            m.add("giant-field", f"{source}: {path} {what} = {value:#x}", out)


def mp4_box_sizes(m: _Maker) -> None:
    """A box's size field past the end of the file, zero, or 1 (a 64-bit size read from its body)."""
    for source in ("speech.mp4", "hevc_rotated.mov"):
        boxes = list(mp4_boxes(m.sources[source]))
        for i in range(10):
            rng = m.rng("boxsize", source, i)
            box, value = rng.choice(boxes), rng.choice((0, 1, 7, 0x7FFFFFFF, 0xFFFFFFFF))
            m.add(
                "giant-size",
                f"{source}: {box.path} size = {value:#x}",
                _put(m.sources[source], box.start, struct.pack(">I", value)),
            )


def zero_durations(m: _Maker) -> None:
    """Declared durations of zero, all of them or only the movie's, and a zero timescale."""
    data = m.sources["speech.mp4"]
    every = bytearray(data)
    for path, offset in (("moov/mvhd", 16), ("moov/trak/mdia/mdhd", 16), ("moov/trak/tkhd", 20)):
        for box in find_boxes(data, path):
            every[box.body + offset : box.body + offset + 4] = bytes(4)
    m.add("duration", "speech.mp4: every duration 0", every)
    mvhd = find_boxes(data, "moov/mvhd")[0]
    m.add("duration", "speech.mp4: movie duration 0", _put(data, mvhd.body + 16, bytes(4)))
    m.add("duration", "speech.mp4: movie timescale 0", _put(data, mvhd.body + 12, bytes(4)))


MKV_DURATION, MKV_TIMESCALE = b"\x44\x89", b"\x2a\xd7\xb1"
MKV_SIZED = (b"\x18\x53\x80\x67", b"\x16\x54\xae\x6b", b"\xae", b"\x1f\x43\xb6\x75", b"\xa3", b"\x63\xa2", b"\xb0")


def mkv_fields(m: _Maker) -> None:
    """Matroska durations that are zero, negative, NaN, infinite or tiny; odd timestamp scales;
    element sizes past the end of the file; a giant picture size."""
    data = m.sources["silent.mkv"]
    duration = find_elements(data, MKV_DURATION)[0]
    for value in (0.0, -1.0, float("nan"), float("inf"), 1e-9, 1e300):
        m.add("duration", f"silent.mkv: Duration {value}", _put(data, duration.body, struct.pack(">d", value)), "d.mkv")
    scale = find_elements(data, MKV_TIMESCALE)[0]
    for value in (0, 1, 0xFFFFFF):
        m.add("duration", f"silent.mkv: TimestampScale {value}", _put(data, scale.body, value.to_bytes(3, "big")))
    for element_id in MKV_SIZED:
        for element in find_elements(data, element_id)[:1]:
            giant = (0x01 << 56 | (1 << 56) - 2).to_bytes(8, "big")  # 8-byte vint, largest known size
            out = data[: element.size_at] + giant + data[element.size_at + element.size_len :]
            m.add("giant-size", f"silent.mkv: element {element_id.hex()} size 2^56-2", out)
    for element in find_elements(data, b"\xb0") + find_elements(data, b"\xba"):
        m.add("giant-field", f"silent.mkv: {element.id.hex()} = 255", _put(data, element.body, b"\xff"))


# (chunk, offset in its data, field): AVI's main header, stream header and bitmap header.
AVI_FIELDS = (
    ("avih", 0, "µs per frame"),
    ("avih", 16, "total frames"),
    ("avih", 24, "streams"),
    ("avih", 32, "width"),
    ("avih", 36, "height"),
    ("strh", 20, "scale"),
    ("strh", 24, "rate"),
    ("strh", 32, "length"),
    ("strf", 4, "width"),
    ("strf", 8, "height"),
    ("idx1", 8, "first offset"),
    ("idx1", 12, "first size"),
)


def avi_fields(m: _Maker) -> None:
    data = m.sources["mjpeg_pcm.avi"]
    chunks = list(riff_chunks(data))
    for i, (fourcc, offset, field) in enumerate(AVI_FIELDS):
        for value in (0, 0xFFFFFFFF, m.rng("avi", i).randrange(1 << 31)):
            at = next(body for cc, _, body in chunks if cc == fourcc.encode()) + offset
            m.add(
                "giant-field", f"mjpeg_pcm.avi: {fourcc} {field} = {value:#x}", _put(data, at, struct.pack("<I", value))
            )
    for fourcc, start, _ in chunks[:6]:
        m.add("giant-size", f"mjpeg_pcm.avi: {fourcc!r} chunk size 0xffffffff", _put(data, start + 4, b"\xff" * 4))


def jpeg_sizes(m: _Maker) -> None:
    """MJPEG frames whose own header claims a larger picture, at the first frame or mid-stream."""
    data = m.sources["mjpeg_pcm.avi"]
    markers = jpeg_frame_headers(data)
    for index in (0, len(markers) // 2):
        for width, height in ((OVERSIZE, OVERSIZE), (65_000, 65_000), (8, 60_000)):
            at = markers[index] + 5  # FF C0, length (2), precision (1), then height and width
            out = _put(data, at, struct.pack(">HH", height, width))
            m.add("resolution-change", f"mjpeg_pcm.avi: frame {index} claims {width}x{height}", out)


# --- polyglots and local files ----------------------------------------------------------------


def polyglots(m: _Maker) -> None:
    """Playlists that name local files, behind or inside a container's header, or after a whole file."""
    playlists = []
    for target in (m.secret, *LOCAL_FILES):
        playlists += [
            f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:{target}\n#EXT-X-ENDLIST\n".encode(),
            f"ffconcat version 1.0\nfile '{target}'\n".encode(),
        ]
    heads = (
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",
        b"\x1a\x45\xdf\xa3\x80",
        b"RIFF\x00\x10\x00\x00AVI LIST",
        b"\x00\x00\x00\x08free",
    )
    for i, playlist in enumerate(playlists):
        m.add("polyglot", f"container magic {i % len(heads)} + playlist {i}", heads[i % len(heads)] + playlist)
    silent = m.sources["silent.mkv"]
    m.add("polyglot", "silent.mkv + HLS playlist appended", silent + playlists[0])
    m.add("polyglot", "HTML + silent.mkv", b"<!DOCTYPE html><html><body>" + silent)
    mdat = find_boxes(m.sources["speech.mp4"], "mdat")[0]
    hls = playlists[0] * 50
    m.add(
        "polyglot",
        "speech.mp4 with an HLS playlist over the start of mdat",
        _put(m.sources["speech.mp4"], mdat.body, hls),
    )


def local_paths_in_place(m: _Maker) -> None:
    """A local path where the fixtures keep a string (the muxer's name in their metadata)."""
    for source, data in m.sources.items():
        at = data.find(b"Lavf")
        if at != -1:
            for target in ("/etc/passwd", "file:" + m.secret[:40]):
                m.add(
                    "local-path",
                    f"{source}: metadata string replaced by {target}",
                    _put(data, at, target.encode() + b"\x00"),
                )


FAMILIES: tuple[Callable[[_Maker], None], ...] = (
    bit_flips,
    overwritten_runs,
    truncations,
    splices,
    concatenations,
    wrong_names,
    empty_and_tiny,
    magic_and_noise,
    mp4_fields,
    mp4_box_sizes,
    zero_durations,
    mkv_fields,
    avi_fields,
    jpeg_sizes,
    polyglots,
    local_paths_in_place,
)


# --- files ffmpeg makes -----------------------------------------------------------------------


def made_by_ffmpeg(m: _Maker, ffmpeg: str) -> None:
    """A picture size that changes mid-stream (past the cap, and within it), local paths in
    metadata, and a few flips of each."""
    with tempfile.TemporaryDirectory(prefix="bestpart-fuzz-") as folder:
        made = dict(_ffmpeg_files(Path(folder), ffmpeg, m.secret))
    for name, data in made.items():
        m.add("resolution-change" if "size" in name else "local-path", f"ffmpeg: {name}", data, name=name)
        for i in range(3):
            m.add("bitflip", f"ffmpeg: {name}, 4 flipped bytes (seed {i})", _flips(data, m.rng("made", name, i), 4))


def size_change(ffmpeg: str, folder: Path, sizes: tuple[int, ...], container: str = "mp4") -> bytes:
    """A 1 s H.264 stream of 64x64 whose later GOPs (one frame each) are `sizes` squares: the header
    the probe reads says 64x64, and the picture grows at a keyframe inside the stream."""
    stream = _h264(folder, ffmpeg, "small", "testsrc2=s=64x64:r=25:d=1")
    for size in sizes:
        stream += _h264(folder, ffmpeg, f"s{size}", f"color=gray:s={size}x{size}:r=25:d=0.04")
    raw = folder / "changing.h264"
    raw.write_bytes(stream)
    return _ffmpeg(ffmpeg, folder, ["-r", "25", "-f", "h264", "-i", str(raw), "-c", "copy"], f"changing.{container}")


def _ffmpeg_files(folder: Path, ffmpeg: str, secret: str) -> Iterator[tuple[str, bytes]]:
    for container in ("mp4", "mkv"):
        yield f"size-past-cap.{container}", size_change(ffmpeg, folder, (OVERSIZE,), container)
        yield f"size-within-cap.{container}", size_change(ffmpeg, folder, (320,), container)
    source = folder / "small.h264"  # left by size_change
    for container in ("mp4", "mkv"):
        tags = [
            "-metadata",
            "title=/etc/passwd",
            "-metadata",
            f"comment=file:{secret}",
            "-metadata",
            f"encoder=concat:{secret}|/etc/passwd",
        ]
        yield (
            f"local-path-tags.{container}",
            _ffmpeg(
                ffmpeg, folder, ["-r", "25", "-f", "h264", "-i", str(source), "-c", "copy", *tags], f"tags.{container}"
            ),
        )


def _h264(folder: Path, ffmpeg: str, name: str, source: str) -> bytes:
    out = folder / f"{name}.h264"
    _run(
        ffmpeg,
        [
            "-f",
            "lavfi",
            "-i",
            source,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "51",
            "-g",
            "25",
            "-threads",
            "1",
            "-pix_fmt",
            "yuv420p",
            "-bsf:v",
            "h264_mp4toannexb",
            "-f",
            "h264",
            str(out),
        ],
    )
    return out.read_bytes()


def _ffmpeg(ffmpeg: str, folder: Path, args: list[str], name: str) -> bytes:
    out = folder / name
    _run(ffmpeg, [*args, "-fflags", "+bitexact", str(out)])
    return out.read_bytes()


def _run(ffmpeg: str, args: list[str]) -> None:
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], check=True, timeout=120)


# --- helpers ----------------------------------------------------------------------------------


def _put(data: bytes, at: int, value: bytes) -> bytes:
    return data[:at] + value + data[at + len(value) :]


def _flip_byte(data: bytes, at: int) -> bytes:
    return _put(data, at, bytes([data[at] ^ 0xFF]))


def _flips(data: bytes, rng: random.Random, count: int) -> bytes:
    out = bytearray(data)
    for _ in range(count):
        out[rng.randrange(len(out))] ^= 0xFF
    return bytes(out)
