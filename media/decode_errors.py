"""Tell a damaged file from a glitch: count the decoder's error lines while we decode anyway."""

from media.errors import MediaRejected

# Cameras leave the odd broken frame at a cut; more than this is a damaged file.
TOLERATED_ERRORS = 2
KEPT_LINES = 5  # a damaged file can print millions of errors: count them all, keep a few


class DecodeErrorCounter:
    """An ffmpeg stderr line callback, for runs at `-loglevel error`."""

    def __init__(self, track: str):
        self.track = track
        self.count = 0
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        if line.startswith(" "):  # continuation lines ("Last message repeated") don't count
            return
        self.count += 1
        if len(self.lines) < KEPT_LINES:
            self.lines.append(line)

    def check(self) -> None:
        if self.count > TOLERATED_ERRORS:
            from media.ffmpeg import error_summary

            raise MediaRejected(
                f"the file is damaged: its {self.track} track fails to decode "
                f"({self.count} errors, first: {error_summary(self.lines[:1])})"
            )
