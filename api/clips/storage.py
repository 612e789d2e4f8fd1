"""The content-addressed store: originals named by SHA-256, read-only, never written again.

store/originals/ab/abcdef...      the original, mode 0444
store/derived/ab/abcdef.../       poster.jpg, proxy.mp4, transcript.json, ...
store/tmp/                        stage outputs and imports before their rename
store/tmp/uploads/                HTTP uploads while they stream in (the server's alone)
"""

import hashlib
import logging
import os
import shutil
import time
import uuid
from pathlib import Path

CHUNK = 1 << 20
# A temp file nothing has written to for this long belongs to a process that died: every writer
# (upload, import copy, ffmpeg) touches its file far more often than this.
TEMP_IDLE_SECONDS = 3600
log = logging.getLogger("bestpart.store")


class Store:
    def __init__(self, root: Path):
        self.root = root
        self.tmp_dir = root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def original_path(self, sha256: str) -> Path:
        return self.root / "originals" / sha256[:2] / sha256

    def derived_dir(self, sha256: str) -> Path:
        return self.root / "derived" / sha256[:2] / sha256

    def temp_path(self, suffix: str = "") -> Path:
        return self.tmp_dir / f"{uuid.uuid4().hex}{suffix}"

    def upload_temp_path(self) -> Path:
        uploads = self.tmp_dir / "uploads"
        uploads.mkdir(exist_ok=True)
        return uploads / uuid.uuid4().hex

    def clean_temp(self, uploads: bool = False) -> int:
        """Remove what dead processes left in tmp/: every upload in flight (`uploads`, at server
        start-up, when none can be), and whatever has sat idle past TEMP_IDLE_SECONDS. Returns the
        number of bytes freed."""
        cutoff = time.time() - TEMP_IDLE_SECONDS
        freed = 0
        for entry in self.tmp_dir.iterdir():
            try:
                if entry.name == "uploads":
                    if uploads:
                        freed += _remove_tree(entry, contents_only=True)
                elif entry.lstat().st_mtime < cutoff:
                    freed += _remove_tree(entry)
            except FileNotFoundError:  # finished and renamed meanwhile
                continue
        if freed:
            log.info("removed %d bytes of temp files left by stopped processes", freed)
        return freed

    def keep_original(self, temp: Path, sha256: str) -> Path:
        """Move a hashed upload into place, read-only. The same bytes already there win."""
        final = self.original_path(sha256)
        if final.exists():
            temp.unlink(missing_ok=True)
            return final
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(temp, 0o444)
        os.replace(temp, final)
        _fsync_dir(final.parent)
        return final

    def publish(self, temp: Path, sha256: str, name: str) -> Path:
        """Atomically put a finished derived file under its final name."""
        final = self.derived_dir(sha256) / name
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, final)
        return final

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def absolute(self, relative: str) -> Path:
        return self.root / relative


class HashingWriter:
    """Writes a stream to a temp file while hashing it: one pass, constant memory."""

    def __init__(self, path: Path, max_bytes: int):
        self.path = path
        self.max_bytes = max_bytes
        self.size = 0
        self.head = b""
        self._hash = hashlib.sha256()
        self._file = open(path, "wb")

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise TooLarge(self.max_bytes)
        if len(self.head) < 4096:
            self.head += data[: 4096 - len(self.head)]
        self._hash.update(data)
        self._file.write(data)

    def finish(self) -> str:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return self._hash.hexdigest()

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


class TooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"the file is larger than the {limit} bytes accepted")
        self.limit = limit


def copy_hashing(src: Path, writer: HashingWriter) -> str:
    with open(src, "rb") as f:
        while chunk := f.read(CHUNK):
            writer.write(chunk)
    return writer.finish()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _remove_tree(path: Path, contents_only: bool = False) -> int:
    if path.is_dir() and not path.is_symlink():
        freed = sum(_remove_tree(child) for child in path.iterdir())
        if not contents_only:
            shutil.rmtree(path, ignore_errors=True)
        return freed
    size = path.lstat().st_size
    path.unlink(missing_ok=True)
    return size


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
