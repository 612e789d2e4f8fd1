"""Just enough of MP4, Matroska, AVI and JPEG structure to aim a mutation at a field.

Readers for the fuzzer, not parsers for the product: they find where a box, element or chunk and
its fields lie in a fixture, and stop quietly wherever the bytes stop making sense.
"""

import struct
from collections.abc import Iterator
from dataclasses import dataclass

MP4_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"dinf", b"edts", b"udta"}


@dataclass(frozen=True)
class Box:
    path: str  # e.g. "moov/trak/mdia/mdhd"
    start: int  # of the size field
    body: int  # first byte after the header
    end: int


def mp4_boxes(data: bytes, start: int = 0, end: int | None = None, parent: str = "") -> Iterator[Box]:
    """Every box, depth first, with its path from the top."""
    end = len(data) if end is None else end
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        header = 8
        if size == 1 and start + 16 <= end:
            size, header = struct.unpack(">Q", data[start + 8 : start + 16])[0], 16
        elif size == 0:
            size = end - start
        if size < header or start + size > end:
            return
        path = f"{parent}/{kind.decode('latin-1')}".lstrip("/")
        yield Box(path, start, start + header, start + size)
        if kind in MP4_CONTAINERS:
            yield from mp4_boxes(data, start + header, start + size, path)
        start += size


def find_boxes(data: bytes, path: str) -> list[Box]:
    return [box for box in mp4_boxes(data) if box.path == path]


@dataclass(frozen=True)
class Element:
    id: bytes
    start: int  # of the ID
    size_at: int  # of the size vint
    size_len: int
    body: int
    end: int


# EBML master elements to descend into: EBML header, Segment, Info, Tracks, TrackEntry, Video,
# Cluster, Tags, Tag.
MKV_MASTERS = {
    b"\x1a\x45\xdf\xa3",
    b"\x18\x53\x80\x67",
    b"\x15\x49\xa9\x66",
    b"\x16\x54\xae\x6b",
    b"\xae",
    b"\xe0",
    b"\x1f\x43\xb6\x75",
    b"\x12\x54\xc3\x67",
    b"\x73\x73",
}
UNKNOWN_SIZE = -1


def _vint(data: bytes, pos: int) -> tuple[int, int]:
    """(value without its length marker, length) of the EBML variable-length integer at pos."""
    first = data[pos]
    length = 8 - first.bit_length() + 1
    if first == 0 or pos + length > len(data):
        raise ValueError("no vint here")
    value = first & ((1 << (8 - length)) - 1)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return (UNKNOWN_SIZE if value == (1 << (7 * length)) - 1 else value), length


def mkv_elements(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Element]:
    end = len(data) if end is None else end
    try:
        while start < end:
            _, id_len = _vint(data, start)
            size, size_len = _vint(data, start + id_len)
            body = start + id_len + size_len
            stop = end if size == UNKNOWN_SIZE else min(end, body + size)
            element = Element(data[start : start + id_len], start, start + id_len, size_len, body, stop)
            yield element
            if element.id in MKV_MASTERS:
                yield from mkv_elements(data, body, stop)
            start = stop
    except (ValueError, IndexError):
        return


def find_elements(data: bytes, element_id: bytes) -> list[Element]:
    return [element for element in mkv_elements(data) if element.id == element_id]


def riff_chunks(data: bytes, start: int = 12, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(fourcc, offset of the chunk, offset of its data) for every chunk, LISTs descended."""
    end = len(data) if end is None else end
    while start + 8 <= end:
        fourcc, size = data[start : start + 4], struct.unpack("<I", data[start + 4 : start + 8])[0]
        yield fourcc, start, start + 8
        if fourcc == b"LIST" and data[start + 8 : start + 12] != b"movi":
            yield from riff_chunks(data, start + 12, min(end, start + 8 + size))
        start += 8 + size + (size & 1)


def jpeg_frame_headers(data: bytes) -> list[int]:
    """Offsets of every baseline JPEG start-of-frame marker (FF C0): height and width follow."""
    found, pos = [], data.find(b"\xff\xc0")
    while pos != -1:
        found.append(pos)
        pos = data.find(b"\xff\xc0", pos + 2)
    return found
