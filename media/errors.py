class MediaRejected(Exception):
    """The file is not a video we can process. The message says why, for the uploader."""


class MediaToolError(Exception):
    """A tool failed or timed out on input that looked valid: our side, worth a retry."""
