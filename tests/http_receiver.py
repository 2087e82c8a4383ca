"""A local HTTP receiver on 127.0.0.1 that records requests, for notifier tests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Records every request; answers with `status` and `body` (settable per test).

    `script` overrides the answer request by request: each request takes the next item, a
    status (500), a status with extra headers ((429, {"Retry-After": "1"})), "drop" to
    close the connection without answering, or "slow" to answer `status` after `delay`
    seconds. Once it is used up, `status` answers again.
    """

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.body = b'{"ok": true}'
        self.script: list = []
        self.delay = 1.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    decoded = json.loads(raw) if raw else None
                except ValueError:
                    decoded = None
                receiver.requests.append({
                    "method": self.command, "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": raw, "json": decoded,
                })
                action = receiver.script.pop(0) if receiver.script else receiver.status
                if action == "drop":  # the request arrived; the answer never does
                    self.close_connection = True
                    return
                if action == "slow":
                    time.sleep(receiver.delay)
                    action = receiver.status
                status, extra = action if isinstance(action, tuple) else (action, {})
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(receiver.body)))
                try:
                    self.end_headers()
                    self.wfile.write(receiver.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (a timeout test)

            do_POST = do_PUT = do_PATCH = do_GET = do_DELETE = _handle

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                        daemon=True)  # quick shutdown between tests
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
