"""Tell a damaged file from a glitch: count the decoder's error lines while we decode anyway."""

from media.errors import MediaRejected

# Cameras leave the odd broken frame at a cut; more than this is a damaged file.
TOLERATED_ERRORS = 2


class DecodeErrorCounter:
    """An ffmpeg stderr line callback, for runs at `-loglevel error`."""

    def __init__(self, track: str):
        self.track = track
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        if not line.startswith(" "):  # continuation lines ("Last message repeated") don't count
            self.lines.append(line)

    def check(self) -> None:
        if len(self.lines) > TOLERATED_ERRORS:
            from media.ffmpeg import error_summary

            raise MediaRejected(
                f"the file is damaged: its {self.track} track fails to decode "
                f"({len(self.lines)} errors, first: {error_summary(self.lines[:1])})"
            )
