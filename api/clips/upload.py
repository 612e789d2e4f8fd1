"""Stream a multipart upload straight to a temp file, hashing as it goes (constant memory).

Starlette's form parser would spool the file to a temp file first and leave us to read it back
to hash it; parsing the stream ourselves writes each byte once.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from api.clips.storage import HashingWriter, TooLarge
from api.core.errors import ServiceError

if TYPE_CHECKING:  # the library declares its callbacks' TypedDict for type checkers only
    from python_multipart.multipart import MultipartCallbacks

# The upload form has about a dozen small fields: anything far past that is an attack on the
# parser (3,000 fields of 60 KB once held a request for minutes), refused as soon as it shows.
MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 50
MAX_FORM_BYTES = 256 * 1024  # all the fields together, the file aside
MAX_HEADER_BYTES = 4 * 1024  # one part header
FILE_FIELD = "file"


@dataclass
class ReceivedUpload:
    fields: dict[str, list[str]] = field(default_factory=dict)
    writer: HashingWriter | None = None
    filename: str | None = None
    sha256: str | None = None


async def receive_upload(request: Request, writer: HashingWriter) -> ReceivedUpload:
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise ServiceError(415, "send the clip as multipart/form-data with a 'file' part")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > writer.max_bytes + MAX_FORM_BYTES:
        raise ServiceError(413, f"the upload is larger than the {writer.max_bytes} bytes accepted")
    parts = _Parts(writer)
    parser = MultipartParser(params[b"boundary"], parts.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if parts.error:
                raise parts.error
        parser.finalize()
    except TooLarge as exc:
        raise ServiceError(413, str(exc)) from None
    except ServiceError:
        raise
    except Exception as exc:  # a malformed body from the client
        raise ServiceError(400, f"the multipart body is malformed: {exc}") from None
    if not parts.saw_file:
        raise ServiceError(400, "the upload has no 'file' part")
    received = parts.received
    # fsync of a large file can take seconds: off the event loop, so other requests go on.
    received.sha256 = await run_in_threadpool(writer.finish)
    return received


class _Parts:
    """MultipartParser callbacks: the file part goes to the writer, small fields to memory."""

    def __init__(self, writer: HashingWriter):
        self.writer = writer
        self.received = ReceivedUpload(writer=writer)
        self.saw_file = False
        self.error: Exception | None = None
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._is_file = False
        self._value = bytearray()
        self._parts = 0
        self._form_bytes = 0

    def callbacks(self) -> "MultipartCallbacks":
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._add(data, start, end, "_header_name"),
            "on_header_value": lambda data, start, end: self._add(data, start, end, "_header_value"),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._part_end,
        }

    def _add(self, data, start, end, attribute) -> None:
        value = getattr(self, attribute) + bytes(data[start:end])
        if len(value) > MAX_HEADER_BYTES:
            self._fail(ServiceError(431, f"a part header is longer than {MAX_HEADER_BYTES} bytes"))
        setattr(self, attribute, value)

    def _part_begin(self) -> None:
        self._headers, self._name, self._is_file, self._value = {}, None, False, bytearray()
        self._parts += 1
        if self._parts > MAX_FIELDS:
            self._fail(ServiceError(413, f"the form has more than {MAX_FIELDS} fields"))

    def _fail(self, error: ServiceError) -> None:
        # Raised from the callback, the parser stops at once; kept, the caller re-raises it as is.
        self.error = self.error or error
        raise error

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        self._is_file = self._name == FILE_FIELD
        if self._is_file:
            if self.saw_file:
                self.error = ServiceError(400, "send one file per upload")
            self.saw_file = True
            self.received.filename = options.get(b"filename", b"").decode("utf-8", "replace") or None

    def _data(self, data, start, end) -> None:
        if self._is_file:
            self.writer.write(bytes(data[start:end]) if not isinstance(data, bytes) else data[start:end])
            return
        self._value += data[start:end]
        self._form_bytes += end - start
        if len(self._value) > MAX_FIELD_BYTES:
            self._fail(ServiceError(413, f"the field {self._name!r} is longer than {MAX_FIELD_BYTES} bytes"))
        if self._form_bytes > MAX_FORM_BYTES:
            self._fail(ServiceError(413, f"the form's fields are longer than {MAX_FORM_BYTES} bytes together"))

    def _part_end(self) -> None:
        if not self._is_file and self._name:
            self.received.fields.setdefault(self._name, []).append(self._value.decode("utf-8", "replace"))
