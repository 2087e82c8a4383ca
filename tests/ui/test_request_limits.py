"""Slow and oversized requests, over real sockets: they neither freeze the server nor get read
past their limits."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from core_blocks import String
from core_blocks.ui.request_limits import MAX_BODY
from core_blocks.ui.server import MAX_CONNECTIONS, UIServer


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10)


def answer(sock: socket.socket) -> tuple[int, bytes]:
    """The status and body of the response on sock, read until the server closes it."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def request_head(server, method: str, path: str, extra: str = "") -> bytes:
    """The request line and headers the page itself would send, token and CSRF included."""
    port = server.server_address[1]
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {server.guard.access_token}\r\n"
            f"X-CSRF-Token: {server.guard.csrf_token}\r\nOrigin: http://127.0.0.1:{port}\r\n"
            f"{extra}\r\n").encode()


@pytest.fixture
def strict_server():
    """A server with short deadlines (1 s for headers, 1 s for a body), to wait less."""
    server = UIServer("127.0.0.1", 0, quiet=True, header_seconds=1.0, body_seconds=1.0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def drip(sockets: list[socket.socket], stop: threading.Event) -> None:
    """Send a request line to each socket a byte at a time, as a slow-headers attack does."""
    line = b"GET /api/blocks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 1000
    for byte in line:
        if stop.is_set():
            return
        for sock in sockets:
            try:
                sock.send(bytes([byte]))
            except OSError:
                pass
        time.sleep(0.1)


def test_slow_headers_do_not_hold_up_other_clients(client, ui_server):
    slow = [connect(ui_server) for _ in range(16)]
    stop = threading.Event()
    dripping = threading.Thread(target=drip, args=(slow, stop), daemon=True)
    dripping.start()
    try:
        time.sleep(0.5)  # every slow connection has begun its request
        started = time.monotonic()
        with connect(ui_server) as sock:
            sock.settimeout(3)
            sock.sendall(request_head(ui_server, "GET", "/api/blocks"))
            status, body = answer(sock)
        took = time.monotonic() - started
    finally:
        stop.set()
        dripping.join()
        for sock in slow:
            sock.close()
    assert (status, body) == (200, b"[]")
    assert took < 2.0  # with no slow client it takes milliseconds


def test_slow_headers_are_cut_off_at_their_deadline(strict_server):
    slow = [connect(strict_server) for _ in range(8)]
    stop = threading.Event()
    threading.Thread(target=drip, args=(slow, stop), daemon=True).start()
    started = time.monotonic()
    try:
        for sock in slow:
            sock.settimeout(5)
            try:
                assert sock.recv(1024) == b""  # closed by the server
            except ConnectionResetError:
                pass
        took = time.monotonic() - started
    finally:
        stop.set()
        for sock in slow:
            sock.close()
    assert 0.8 < took < 2.5


@pytest.mark.parametrize("length_headers, status, says", [
    ("", 411, "Send a Content-Length header"),
    ("Content-Length: -1\r\n", 400, "Content-Length must be one whole number"),
    ("Content-Length: abc\r\n", 400, "Content-Length must be one whole number"),
    ("Content-Length: 1e3\r\n", 400, "Content-Length must be one whole number"),
    ("Content-Length: 80\r\nContent-Length: 81\r\n", 400, "Content-Length must be one whole"),
    (f"Content-Length: {MAX_BODY + 1}\r\n", 413, f"larger than {MAX_BODY} bytes"),
    ("Transfer-Encoding: chunked\r\n", 411, "not Transfer-Encoding"),
])
def test_a_body_length_not_given_whole_and_small_is_refused_before_reading(
        client, ui_server, length_headers, status, says):
    body = json.dumps({"type": "string", "name": "big", "values": {"value": "x" * 50}}).encode()
    with connect(ui_server) as sock:
        sock.settimeout(5)  # refused at once: the server waits for no body
        sock.sendall(request_head(ui_server, "POST", "/api/blocks",
                                  "Content-Type: application/json\r\n" + length_headers))
        sock.sendall(body)  # never the end of the stream: the connection stays open
        got, text = answer(sock)

    assert got == status and says in json.loads(text)["error"]
    assert String.list() == []


def test_a_body_sent_too_slowly_times_out(client, strict_server):
    with connect(strict_server) as sock:
        sock.sendall(request_head(strict_server, "POST", "/api/blocks",
                                  "Content-Type: application/json\r\nContent-Length: 100\r\n"))
        sock.sendall(b'{"type": "str')
        started = time.monotonic()
        got, text = answer(sock)
        took = time.monotonic() - started

    assert got == 408 and "did not arrive within 1 seconds" in json.loads(text)["error"]
    assert took < 2.5
    assert String.list() == []


def test_a_right_length_is_read_and_saved(client, ui_server):
    body = json.dumps({"type": "string", "name": "fits", "values": {"value": "ok"}}).encode()
    with connect(ui_server) as sock:
        sock.sendall(request_head(ui_server, "POST", "/api/blocks",
                                  "Content-Type: application/json\r\n"
                                  f"Content-Length: {len(body)}\r\n") + body)
        got, _ = answer(sock)
    assert got == 200 and String.load("fits").value == "ok"


def test_connections_beyond_the_limit_are_answered_busy_at_once(strict_server):
    strict_server.header_seconds = 30  # the open ones would hold their places a long time
    idle = [connect(strict_server) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.3)
        with connect(strict_server) as extra:
            extra.settimeout(3)
            status, body = answer(extra)
    finally:
        for sock in idle:
            sock.close()
    assert status == 503 and b"Too many open connections" in body
