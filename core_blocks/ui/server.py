"""The HTTP server of `blocks ui`: the standard library's, the page's assets and the JSON API.

No framework: a dozen routes over core_blocks.ui.api need none, and the core install gains no
dependency. Each connection gets a thread of its own (up to MAX_CONNECTIONS), which reads the
request against the deadlines of request_limits, so slow clients never hold up the others;
the API calls themselves run on a small fixed pool, so each keeps its store connection (the
store opens one per thread) and a flood of requests never opens unbounded store connections.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from core_blocks.ui import api
from core_blocks.ui.request_limits import (
    BODY_SECONDS,
    HEADER_SECONDS,
    DeadlineReader,
    RequestRefused,
    body_length,
    read_body,
)
from core_blocks.ui.security import CSRF_HEADER, Guard

log = logging.getLogger("core_blocks.ui")

MAX_CONNECTIONS = 64  # open at once; beyond, a new one is answered 503 at once
_BUSY = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
         b"Connection: close\r\n\r\nToo many open connections; try again shortly.\n")
_ASSETS = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
_HEADERS = {
    # Only this server's own script and style: no inline code, no CDN, no framing.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_SEGMENT = r"([^/]+)"


def _routes() -> list[tuple[str, re.Pattern[str], Any]]:
    """(method, path pattern, handler(match, query, body)) for the JSON API."""
    def q(query: dict[str, list[str]], key: str, default: str = "") -> str:
        return query.get(key, [default])[0]

    table = [
        ("GET", "/api/types", lambda m, query, body: api.list_types()),
        ("GET", f"/api/types/{_SEGMENT}/schema", lambda m, query, body: api.type_schema(m[1])),
        ("GET", "/api/blocks", lambda m, query, body: api.list_blocks(q(query, "type"),
                                                                     q(query, "q"))),
        ("POST", "/api/blocks", lambda m, query, body: api.create_block(
            str(body.get("type", "")), str(body.get("name", "")), body.get("values", {}),
            bool(body.get("overwrite", False)))),
        ("GET", f"/api/blocks/{_SEGMENT}/{_SEGMENT}",
         lambda m, query, body: api.describe_block(m[1], m[2])),
        ("PUT", f"/api/blocks/{_SEGMENT}/{_SEGMENT}", lambda m, query, body: api.update_block(
            m[1], m[2], _int(body.get("version")), body.get("values", {}))),
        ("DELETE", f"/api/blocks/{_SEGMENT}/{_SEGMENT}",
         lambda m, query, body: api.delete_block(m[1], m[2])),
        ("GET", "/api/runs", lambda m, query, body: api.list_runs(
            q(query, "flow"), q(query, "state"), q(query, "kind"),
            max(1, min(500, _int(q(query, "limit", "50")))))),
        ("GET", f"/api/runs/{_SEGMENT}", lambda m, query, body: api.get_run(m[1])),
        ("GET", "/api/concurrency", lambda m, query, body: api.list_limits()),
        ("PUT", f"/api/concurrency/{_SEGMENT}",
         lambda m, query, body: api.set_limit(m[1], body.get("slots"))),
        ("DELETE", f"/api/concurrency/{_SEGMENT}", lambda m, query, body: api.delete_limit(m[1])),
    ]
    return [(method, re.compile(f"^{path}$"), handler) for method, path, handler in table]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise api.BlockValidationError(f"Expected a whole number, got {value!r}.") from None


def _status_for(exc: Exception) -> HTTPStatus:
    from core_blocks import errors

    table = [
        (api.FieldErrors, HTTPStatus.UNPROCESSABLE_ENTITY),
        ((errors.BlockNotFound, errors.BlockTypeNotFound, errors.ConcurrencyLimitNotFound,
          errors.RunNotFound), HTTPStatus.NOT_FOUND),
        ((errors.BlockExistsError, errors.BlockConflictError, errors.BlockInUseError,
          errors.UnsavedChildError), HTTPStatus.CONFLICT),
        ((errors.StoreError, errors.SecretBackendError), HTTPStatus.SERVICE_UNAVAILABLE),
        ((errors.CoreBlocksError, ValueError), HTTPStatus.BAD_REQUEST),
    ]
    return next(status for kinds, status in table if isinstance(exc, kinds))


class Handler(BaseHTTPRequestHandler):
    """One request: the guard's checks, then an asset, the page, or an API route."""

    server: UIServer
    server_version = "blocks-ui"
    sys_version = ""
    timeout = 30  # for writing a response; reading has request_limits' deadlines

    def setup(self) -> None:
        super().setup()
        self._reader = DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        # The request line and headers within one deadline: a byte at a time never outlasts it.
        self._reader.deadline = time.monotonic() + self.server.header_seconds
        super().handle_one_request()  # a TimeoutError there closes the connection

    # -- dispatch ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        guard = self.server.guard
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        refusal = guard.host_refusal(self.headers.get("Host"))
        if refusal:
            return self._send_json(HTTPStatus.BAD_REQUEST, {"error": refusal})
        query_token = query.get("token", [None])[0]
        if not guard.token_ok(self.headers.get("Cookie"), self.headers.get("Authorization"),
                              query_token):
            message = ("This page needs the access token: open the URL with ?token= that "
                       "blocks ui printed when it started.")
            if url.path.startswith("/api/"):
                return self._send_json(HTTPStatus.FORBIDDEN, {"error": message})
            return self._send(HTTPStatus.FORBIDDEN, message.encode() + b"\n",
                              "text/plain; charset=utf-8")
        if query_token and method == "GET" and not url.path.startswith("/api/"):
            # Keep the token out of the address bar and history: a cookie carries it on.
            return self._send(HTTPStatus.SEE_OTHER, b"", "text/plain",
                              {"Location": url.path, "Set-Cookie": guard.cookie_header()})
        if method != "GET":
            refusal = guard.write_refusal(self.headers.get(CSRF_HEADER),
                                          self.headers.get("Origin"), self.headers.get("Host"))
            if refusal:
                return self._send_json(HTTPStatus.FORBIDDEN, {"error": refusal})
        if method == "GET" and url.path == "/":
            return self._send(HTTPStatus.OK, self.server.index_html(), "text/html; charset=utf-8")
        if method == "GET" and url.path.startswith("/static/"):
            return self._asset(url.path[len("/static/"):])
        if url.path.startswith("/api/"):
            return self._api(method, url.path, query)
        self._send_json(HTTPStatus.NOT_FOUND, {"error": f"No page at {url.path}."})

    def _asset(self, name: str) -> None:
        if name not in _ASSETS:
            return self._send_json(HTTPStatus.NOT_FOUND, {"error": f"No asset {name!r}."})
        self._send(HTTPStatus.OK, self.server.asset(name), _ASSETS[name])

    def _api(self, method: str, path: str, query: dict[str, list[str]]) -> None:
        matched = [(m, handler) for verb, pattern, handler in self.server.routes
                   if (m := pattern.match(path)) and verb == method]
        if not matched:
            return self._send_json(HTTPStatus.NOT_FOUND,
                                   {"error": f"No API route {method} {path}."})
        match, handler = matched[0]
        decoded = _Decoded(match)
        try:
            body = self._body() if method in ("POST", "PUT") else {}
        except RequestRefused as exc:
            self.close_connection = True  # what is left of the body is never read
            return self._send_json(exc.status, {"error": str(exc)})
        try:
            result = self.server.run(handler, decoded, query, body)
        except Exception as exc:
            return self._api_error(exc)
        self._send_json(HTTPStatus.OK, result)

    def _api_error(self, exc: Exception) -> None:
        try:
            status = _status_for(exc)
        except StopIteration:
            # Unexpected: the details stay in the server's log, where the user who started
            # it reads them; an exception's text is never sent, as it might quote a value.
            log.exception("blocks ui: %s %s failed", self.command, urlsplit(self.path).path)
            return self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {
                "error": f"Internal error ({type(exc).__name__}); the terminal running "
                         "blocks ui shows the details."})
        payload: dict[str, Any] = {"error": str(exc)}
        if isinstance(exc, api.FieldErrors):
            payload["fields"] = exc.by_field
        self._send_json(status, payload)

    def _body(self) -> dict[str, Any]:
        """The JSON object sent, read only once its length is known to be acceptable."""
        bad = HTTPStatus.BAD_REQUEST
        if "json" not in self.headers.get("Content-Type", ""):
            raise RequestRefused(bad, "Send the request body as JSON (Content-Type: "
                                 "application/json).")
        length = body_length(self.headers)
        data = read_body(self._reader, self.rfile, length, self.server.body_seconds)
        try:
            body = json.loads(data or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestRefused(bad, f"The request body is not valid JSON: {exc}.") from None
        if not isinstance(body, dict):
            raise RequestRefused(bad, "The request body must be a JSON object.")
        return body

    # -- responses --------------------------------------------------------------------------

    def _send_json(self, status: HTTPStatus, value: Any) -> None:
        self._send(status, json.dumps(value, default=str).encode(), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str,
              extra: dict[str, str] | None = None) -> None:
        self.connection.settimeout(self.timeout)  # reading left a deadline's rest on it
        self.send_response(status)
        for key, value in {**_HEADERS, **(extra or {}), "Content-Type": content_type,
                           "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        """http.server's own errors (a malformed request line) as JSON, echoing nothing."""
        self.close_connection = True
        try:
            self._send_json(HTTPStatus(code), {"error": HTTPStatus(code).phrase})
        except OSError:
            pass

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        if not self.server.quiet:  # the path only: a query string may hold the access token
            status = int(code) if isinstance(code, int) else code
            sys.stderr.write(f"{self.command} {urlsplit(self.path).path} {status}\n")

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: http.server's other messages quote the raw request line (and its token)."""


class _Decoded:
    """A route's match with each path segment URL-decoded."""

    def __init__(self, match: re.Match[str]):
        self._match = match

    def __getitem__(self, index: int) -> str:
        return unquote(self._match[index])


class UIServer(HTTPServer):
    """The page's server: a thread per connection, API calls on a fixed pool of workers."""

    def __init__(self, host: str, port: int, workers: int = 8, quiet: bool = False,
                 token: str | None = None, header_seconds: float = HEADER_SECONDS,
                 body_seconds: float = BODY_SECONDS):
        self.address_family = _family(host)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="blocks-ui")
        self._connections = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.header_seconds = header_seconds
        self.body_seconds = body_seconds
        self.routes = _routes()
        self.quiet = quiet
        self._assets: dict[str, bytes] = {}
        super().__init__((host, port), Handler)  # binds: closes itself when that fails
        self.guard = Guard.for_address(host, self.server_address[1], token)

    @property
    def url(self) -> str:
        """The address to open, with the access token."""
        host = self.guard.host
        if host.strip("[]") in ("0.0.0.0", "::"):
            import socket

            host = socket.gethostname()
        elif ":" in host:
            host = f"[{host.strip('[]')}]"
        return f"http://{host}:{self.guard.port}/?token={self.guard.access_token}"

    def asset(self, name: str) -> bytes:
        if name not in self._assets:
            self._assets[name] = resources.files("core_blocks.ui").joinpath(
                "static", name).read_bytes()
        return self._assets[name]

    def index_html(self) -> bytes:
        # The CSRF token rides in the page, which only this origin can read.
        return self.asset("index.html").replace(b"{{csrf_token}}",
                                                self.guard.csrf_token.encode())

    def run(self, handler, *args: Any) -> Any:
        """handler(*args) on a worker of the pool, where the store keeps its connections."""
        return self._pool.submit(handler, *args).result()

    def process_request(self, request, client_address) -> None:
        if not self._connections.acquire(blocking=False):
            try:  # answered at once, never queued behind the connections already open
                request.sendall(_BUSY)
            except OSError:
                pass
            return self.shutdown_request(request)
        threading.Thread(target=self._work, args=(request, client_address), daemon=True,
                         name="blocks-ui-connection").start()

    def _work(self, request, client_address) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self._connections.release()

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _family(host: str) -> int:
    import socket

    return socket.AF_INET6 if ":" in host else socket.AF_INET
