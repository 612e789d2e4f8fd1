"""Recognise a container from its first bytes, before any demuxer sees the file."""

from media.errors import MediaRejected

SNIFF_BYTES = 4096
_MP4_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def sniff_container(head: bytes) -> str:
    """Return 'mp4', 'matroska' or 'avi' for the first bytes of a file, or raise MediaRejected."""
    if not head:
        raise MediaRejected("the file is empty (0 bytes)")
    if head[4:8] in _MP4_BOXES:
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    raise MediaRejected(_describe_unknown(head))


def _describe_unknown(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"#extm3u"):
        return "the file is an HLS playlist (#EXTM3U), not a video; playlists are refused"
    if text.startswith((b"ffconcat", b"file ")):
        return "the file is an ffconcat playlist, not a video; playlists are refused"
    if text.startswith((b"<!doctype", b"<html", b"<?xml", b"<")):
        return "the file is an HTML or XML document, not a video"
    if _looks_like_text(head):
        return "the file is text, not a video"
    return "the file is not a recognised video container (expected MP4, MOV, MKV or AVI)"


def _looks_like_text(head: bytes) -> bool:
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in decoded)
