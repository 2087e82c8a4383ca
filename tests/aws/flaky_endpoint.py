"""A front for the moto server on 127.0.0.1 that fails the first requests on purpose.

    with FlakyEndpoint(moto_url, failures=2, mode="throttle") as front:
        ...  # point AwsClientParameters(endpoint_url=front.url) at it
        front.requests  # how many requests arrived

Modes: "throttle" (503 SlowDown), "server-error" (500 InternalError), "forbidden"
(403 AccessDenied), "reset" (the connection is closed without an answer), "drop-body" (GET
only: the server's answer is relayed with its headers, then the connection is closed half-way
through the body). After `failures` failed requests, requests are relayed to the moto server
unchanged, each after `delay` seconds; `max_in_flight` records how many were ever being
served at once, `dropped` how many bodies were cut off.
"""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_ANSWERS = {
    "throttle": (503, "SlowDown", "Please reduce your request rate."),
    "server-error": (500, "InternalError", "We encountered an internal error."),
    "forbidden": (403, "AccessDenied", "Access Denied"),
}


class FlakyEndpoint:
    def __init__(self, target_url: str, failures: int = 0, mode: str = "throttle",
                 delay: float = 0.0):
        self.target = urlsplit(target_url)
        self.failures = failures
        self.mode = mode
        self.delay = delay
        self.requests = 0
        self.dropped = 0
        self._failed = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                        daemon=True)  # a short poll: shutdown() waits for it

    def __enter__(self) -> FlakyEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    def _take_failure(self, method: str) -> bool:
        with self._lock:
            self.requests += 1
            if self.mode == "drop-body" and method != "GET":
                return False
            if self._failed < self.failures:
                self._failed += 1
                return True
            return False

    def _handler(self):
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if front._take_failure(self.command):
                    self._fail(body)
                    return
                with front._lock:
                    front.in_flight += 1
                    front.max_in_flight = max(front.max_in_flight, front.in_flight)
                try:
                    time.sleep(front.delay)
                    self._relay(body)
                finally:
                    with front._lock:
                        front.in_flight -= 1

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

            def _fail(self, body: bytes) -> None:
                if front.mode == "drop-body":
                    self._relay(body, cut=True)
                    return
                if front.mode == "reset":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                status, code, message = _ANSWERS[front.mode]
                payload = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                           f"<Message>{message}</Message></Error>").encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def _relay(self, body: bytes, cut: bool = False) -> None:
                conn = http.client.HTTPConnection(front.target.hostname, front.target.port,
                                                  timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = front.target.netloc
                conn.request(self.command, self.path, body=body or None, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                conn.close()
                if cut:  # the headers promised len(data) bytes: send half, then hang up
                    self.wfile.write(data[:len(data) // 2])
                    self.wfile.flush()
                    with front._lock:
                        front.dropped += 1
                    self.close_connection = True
                    self.connection.shutdown(2)
                elif self.command != "HEAD":
                    self.wfile.write(data)

        return Handler
