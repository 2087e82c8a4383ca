"""How long and how large a request to the page may be, checked before it is read.

A client sending its headers or body a byte at a time would hold its connection for ever
under a per-read timeout, so each is read against one deadline for the whole of it. A body's
length must be announced, whole and at most MAX_BODY before any of it is read:
`Content-Length: -1` would otherwise read to the end of the stream.
"""

from __future__ import annotations

import io
import socket
import time
from http import HTTPStatus

MAX_BODY = 1024 * 1024  # a block's fields as JSON; anything larger is not a form
HEADER_SECONDS = 5.0  # the request line and headers, from the first byte awaited
BODY_SECONDS = 10.0  # up to MAX_BODY on a local connection takes milliseconds


class RequestRefused(Exception):
    """A request refused before its body is read: the status to answer and why."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


class DeadlineReader(io.RawIOBase):
    """A socket's input that raises TimeoutError once `deadline` (monotonic) has passed."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self.deadline = time.monotonic() + HEADER_SECONDS

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request took too long to arrive")
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


def body_length(headers) -> int:
    """The announced body length, or RequestRefused (411, 400 or 413) naming the fix."""
    if headers.get("Transfer-Encoding"):
        raise RequestRefused(HTTPStatus.LENGTH_REQUIRED, "Send the request body with a "
                             "Content-Length header, not Transfer-Encoding.")
    given = headers.get_all("Content-Length") or []
    if not given:
        raise RequestRefused(HTTPStatus.LENGTH_REQUIRED,
                             "Send a Content-Length header with the request body.")
    text = given[0].strip()
    if len(set(given)) > 1 or not (text.isascii() and text.isdigit()):
        raise RequestRefused(HTTPStatus.BAD_REQUEST, "Content-Length must be one whole number "
                             "of bytes, 0 or more.")
    length = int(text)
    if length > MAX_BODY:
        raise RequestRefused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                             f"The request body is larger than {MAX_BODY} bytes: a block's "
                             "fields fit in far less.")
    return length


def read_body(reader: DeadlineReader, rfile, length: int, seconds: float) -> bytes:
    """length bytes of body within seconds, else RequestRefused (408, or 400 if cut short)."""
    reader.deadline = time.monotonic() + seconds
    try:
        data = rfile.read(length)
    except TimeoutError:
        raise RequestRefused(HTTPStatus.REQUEST_TIMEOUT, f"The request body did not arrive "
                             f"within {seconds:g} seconds.") from None
    if len(data) < length:
        raise RequestRefused(HTTPStatus.BAD_REQUEST, "The request body ended before its "
                             "Content-Length.")
    return data
