"""A strict local Slack: the Web API methods prefect_slack calls and incoming webhooks, on
127.0.0.1, recording what it receives. Use it through the `slack_api` pytest fixture.

What it checks, as Slack does: the Bearer token (`not_authed`, `invalid_auth`), the content
type (`invalid_post_type`, `invalid_json`), chat.postMessage's channel (`channel_not_found`,
`not_in_channel`, `is_archived`), text or blocks (`no_text`), `msg_too_long` past 40,000
characters, Block Kit shapes and limits (`invalid_blocks` with Slack's pointer messages) and
at most 100 attachments; the files.getUploadURLExternal / upload / files.completeUploadExternal
sequence; webhooks' plain-text `ok`, `invalid_payload`, `no_text`, `invalid_blocks`,
`channel_is_archived` and `no_service`. Web API errors come back as HTTP 200 with
`{"ok": false, "error": ...}`, as from Slack.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from prefect_slack import limits
from prefect_slack.testing.block_kit_rules import block_errors

TEAM_ID, BOT_USER_ID, BOT_ID = "T0CBTEST01", "U0CBBOT001", "B0CBBOT001"


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_member: bool = True

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "is_channel": not self.is_private,
                "is_group": self.is_private, "is_private": self.is_private,
                "is_archived": self.is_archived, "is_member": self.is_member,
                "created": 1_700_000_000, "context_team_id": TEAM_ID}


@dataclass
class Received:
    """One request: `kind` is the Web API method, "webhook" or "upload"."""

    kind: str
    method: str
    path: str = field(repr=False)  # a webhook's path is its secret
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    params: dict[str, Any]
    status: int | None = None  # what the server answered; None when it dropped the connection

    @property
    def json(self) -> Any:
        """The JSON body, or None (what NotifierContract's `received` items carry)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def __getitem__(self, key: str) -> Any:  # received[0]["json"], as tests/http_receiver
        return getattr(self, key)


class _Answer(Exception):
    """Ends a request with this status, body and content type."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


def _fail(error: str, **extra: Any) -> _Answer:
    return _Answer(200, {"ok": False, "error": error, **extra})


class SlackApiServer:
    """The server; `slack_api` gives a fresh-state one per test. See the module docstring.

        server = SlackApiServer()
        WebClient(token=server.token, base_url=server.base_url).auth_test()
        server.close()
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()  # reentrant: recording a message takes a ts
        self.reset()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server._handle(self)

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:  # test output stays clean
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_port}"
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,),
                                        daemon=True, name="slack-api-server")
        self._thread.start()

    # -- what tests use ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The Web API base URL, for SlackCredentials(base_url=...) or WebClient."""
        return f"{self.url}/api/"

    def reset(self) -> None:
        """Forget every request, message, file, webhook and knob; one fresh token, and the
        channels #general, #alerts (the app is a member of both) and #random (it is not)."""
        with self._lock:
            self.token = f"xoxb-{secrets.token_hex(6)}-{secrets.token_hex(12)}"
            self.requests: list[Received] = []
            self.messages: list[dict[str, Any]] = []
            self.files: dict[str, dict[str, Any]] = {}
            self.channels: dict[str, Channel] = {}
            self._webhooks: dict[str, str] = {}
            self._script: list[tuple[str | None, Any]] = []
            self._ts = 0
        for name, member in (("general", True), ("alerts", True), ("random", False)):
            self.add_channel(name, member=member)

    def add_channel(self, name: str, *, private: bool = False, archived: bool = False,
                    member: bool = True) -> str:
        """Create a channel; return its ID."""
        with self._lock:
            channel_id = ("G" if private else "C") + f"0CB{len(self.channels):07d}"
            self.channels[channel_id] = Channel(channel_id, name.lstrip("#"), private,
                                                archived, member)
        return channel_id

    def channel(self, name_or_id: str) -> Channel | None:
        """A channel by ID, "name" or "#name"."""
        found = self.channels.get(name_or_id)
        name = name_or_id.lstrip("#")
        return found or next((c for c in self.channels.values() if c.name == name), None)

    def webhook_url(self, channel: str = "#alerts") -> str:
        """A new incoming-webhook URL posting to channel (secret, like Slack's)."""
        found = self.channel(channel)
        if found is None:
            raise ValueError(f"the test server has no channel {channel!r}; add_channel() it")
        path = f"/services/{TEAM_ID}/B{secrets.token_hex(5).upper()}/{secrets.token_hex(12)}"
        with self._lock:
            self._webhooks[path] = found.id
        return self.url + path

    def rate_limit_next(self, retry_after: int = 1, times: int = 1,
                        on: str | None = None) -> None:
        """Answer the next `times` requests (of `on`: a method, "webhook" or "upload") 429."""
        self._push(on, times, ("429", retry_after))

    def fail_next(self, status: int = 500, times: int = 1, on: str | None = None) -> None:
        """Answer the next `times` requests with a server error."""
        self._push(on, times, ("5xx", status))

    def drop_next(self, times: int = 1, on: str | None = None) -> None:
        """Read the next `times` requests, then close the connection without an answer."""
        self._push(on, times, ("drop", None))

    def received(self, kind: str | None = None) -> list[Received]:
        """The requests received, of one kind ("chat.postMessage", "webhook"...) or all."""
        return [r for r in self.requests if kind is None or r.kind == kind]

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    # -- the handler ------------------------------------------------------------------------

    def _push(self, on: str | None, times: int, action: tuple[str, Any]) -> None:
        with self._lock:
            self._script += [(on, action)] * times

    def _scripted(self, kind: str) -> tuple[str, Any] | None:
        with self._lock:
            for i, (on, _) in enumerate(self._script):
                if on is None or on == kind:
                    return self._script.pop(i)[1]
        return None

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        split = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        if split.path.startswith("/api/"):
            kind = split.path[len("/api/"):]
        elif split.path.startswith("/services/"):
            kind = "webhook"
        elif split.path.startswith("/upload/"):
            kind = "upload"
        else:
            kind = "unknown"
        record = Received(kind, request.command, split.path,
                          {k.lower(): v for k, v in request.headers.items()}, body,
                          dict(parse_qsl(split.query)))
        with self._lock:
            self.requests.append(record)
        try:
            scripted = self._scripted(kind)
            if scripted is not None:
                self._play(scripted, kind)
            if kind == "webhook":
                raise self._webhook(split.path, record)
            if kind == "upload":
                raise self._upload(split.path, body)
            if kind == "unknown":
                raise _Answer(404, "not found")
            raise self._web_api(kind, record)
        except _Answer as answer:
            if answer.status == -1:  # drop: the request arrived, the answer never does
                request.close_connection = True
                return
            record.status = answer.status
            self._send(request, answer)

    @staticmethod
    def _play(scripted: tuple[str, Any], kind: str) -> None:
        what, value = scripted
        if what == "drop":
            raise _Answer(-1, None)
        web_api = kind not in ("webhook", "upload")
        if what == "429":
            raise _Answer(429, {"ok": False, "error": "ratelimited"} if web_api
                          else "rate_limited", {"Retry-After": str(value)})
        raise _Answer(value, {"ok": False, "error": "fatal_error"} if web_api
                      else "internal_error")

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, answer: _Answer) -> None:
        if isinstance(answer.body, str):
            payload, ctype = answer.body.encode(), "text/html"  # webhooks answer so
        else:
            payload, ctype = json.dumps(answer.body).encode(), "application/json; charset=utf-8"
        request.send_response(answer.status)
        for name, value in {"Content-Type": ctype, **answer.headers}.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(payload)))
        try:
            request.end_headers()
            request.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first

    # -- Web API ----------------------------------------------------------------------------

    def _web_api(self, method: str, record: Received) -> _Answer:
        handler = _METHODS.get(method)
        if handler is None:
            return _fail("unknown_method", req_method=method)
        params, warnings = self._params(record)
        record.params = params
        auth = record.headers.get("authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else params.get("token")
        if not token:
            return _fail("not_authed")
        if token != self.token:
            return _fail("invalid_auth")
        answer = handler(self, params)
        if warnings and answer.status == 200 and isinstance(answer.body, dict):
            answer.body["warning"] = ",".join(warnings)
            answer.body["response_metadata"] = {**answer.body.get("response_metadata", {}),
                                                "warnings": warnings}
        return answer

    @staticmethod
    def _params(record: Received) -> tuple[dict[str, Any], list[str]]:
        params = dict(record.params)
        if record.method == "GET" or not record.body:
            return params, []
        ctype = record.headers.get("content-type", "")
        media = ctype.split(";")[0].strip().lower()
        if media == "application/json":
            try:
                decoded = json.loads(record.body)
            except ValueError:
                raise _fail("invalid_json") from None
            if not isinstance(decoded, dict):
                raise _fail("json_not_object")
            warnings = [] if "charset" in ctype.lower() else ["missing_charset"]
            return {**params, **decoded}, warnings
        if media == "application/x-www-form-urlencoded":
            try:
                form = parse_qsl(record.body.decode(), strict_parsing=True)
            except (UnicodeDecodeError, ValueError):
                raise _fail("invalid_form_data") from None
            return {**params, **dict(form)}, []
        if not media:
            raise _fail("missing_post_type")
        raise _fail("invalid_post_type")

    def _member_channel(self, given: Any) -> Channel:
        """The channel a message goes to, or the error Slack gives for it."""
        found = self.channel(str(given)) if given else None
        if found is None or (found.is_private and not found.is_member):
            raise _fail("channel_not_found")
        if found.is_archived:
            raise _fail("is_archived")
        if not found.is_member:
            raise _fail("not_in_channel")
        return found

    def _next_ts(self) -> str:
        with self._lock:
            self._ts += 1
            return f"{int(time.time())}.{self._ts:06d}"

    def _auth_test(self, params: dict) -> _Answer:
        return _Answer(200, {"ok": True, "url": "https://core-blocks-test.slack.com/",
                             "team": "core-blocks test", "user": "core-blocks-bot",
                             "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
                             "is_enterprise_install": False})

    def _post_message(self, params: dict) -> _Answer:
        channel = self._member_channel(params.get("channel"))
        blocks = _json_field(params.get("blocks"), "invalid_blocks_format")
        attachments = _json_field(params.get("attachments"), "invalid_attachments")
        text = params.get("text")
        if not text and not blocks and not attachments:
            return _fail("no_text")
        if text is not None and len(str(text)) > limits.MESSAGE_TEXT:
            return _fail("msg_too_long")
        if attachments is not None:
            if not isinstance(attachments, list):
                return _fail("invalid_attachments")
            if len(attachments) > limits.MESSAGE_ATTACHMENTS:
                return _fail("too_many_attachments")
        if blocks is not None and not isinstance(blocks, list):
            return _fail("invalid_blocks_format")
        if blocks is not None:
            problems = block_errors(blocks)
            if problems:
                return _fail("invalid_blocks", response_metadata={"messages": problems})
        message = {"type": "message", "subtype": "bot_message", "text": text or "",
                   "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": self._next_ts(),
                   "team": TEAM_ID}
        if blocks:
            message["blocks"] = blocks
        if attachments:
            message["attachments"] = attachments
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
        with self._lock:
            self.messages.append({"via": "chat.postMessage", "channel": channel.id,
                                  "channel_name": channel.name, **message})
        return _Answer(200, {"ok": True, "channel": channel.id, "ts": message["ts"],
                             "message": message})

    def _conversations_list(self, params: dict) -> _Answer:
        types = set(str(params.get("types") or "public_channel").split(","))
        exclude_archived = str(params.get("exclude_archived", "false")).lower() in ("1", "true")
        try:
            limit = int(params.get("limit") or 100)
            start = int(base64.b64decode(params["cursor"]).decode().split(":")[1]) \
                if params.get("cursor") else 0
        except (ValueError, IndexError, TypeError):
            return _fail("invalid_cursor" if params.get("cursor") else "invalid_limit")
        if not 1 <= limit <= 1000:
            return _fail("invalid_limit")
        visible = [c for c in self.channels.values()
                   if ("private_channel" if c.is_private else "public_channel") in types
                   and not (c.is_private and not c.is_member)
                   and not (exclude_archived and c.is_archived)]
        page = visible[start:start + limit]
        more = start + limit < len(visible)
        cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
        return _Answer(200, {"ok": True, "channels": [c.describe() for c in page],
                             "response_metadata": {"next_cursor": cursor}})

    def _get_upload_url(self, params: dict) -> _Answer:
        filename, length = params.get("filename"), params.get("length")
        if not filename or length is None or not str(length).isdigit() or int(length) < 1:
            return _fail("invalid_arguments", response_metadata={"messages": [
                "[ERROR] filename and a length of at least 1 are required"]})
        file_id = f"F0CB{secrets.token_hex(4).upper()}"
        with self._lock:
            self.files[file_id] = {"id": file_id, "name": filename, "length": int(length),
                                   "content": None, "completed": False}
        return _Answer(200, {"ok": True, "upload_url": f"{self.url}/upload/v1/{file_id}",
                             "file_id": file_id})

    def _upload(self, path: str, body: bytes) -> _Answer:
        entry = self.files.get(path.rsplit("/", 1)[-1])
        if entry is None or entry["completed"]:
            return _Answer(404, "no upload is waiting at this URL")
        if len(body) != entry["length"]:
            return _Answer(400, f"expected {entry['length']} bytes, got {len(body)}")
        entry["content"] = body
        return _Answer(200, f"OK - {len(body)}")

    def _complete_upload(self, params: dict) -> _Answer:
        files = _json_field(params.get("files"), "invalid_arguments")
        if not isinstance(files, list) or not files:
            return _fail("invalid_arguments")
        channel = self._member_channel(params["channel_id"]) if params.get("channel_id") \
            else None
        done = []
        for item in files:
            entry = self.files.get(str(item.get("id"))) if isinstance(item, dict) else None
            if entry is None or entry["content"] is None or entry["completed"]:
                return _fail("file_not_found")
            entry.update(completed=True, title=item.get("title") or entry["name"],
                         channels=[channel.id] if channel else [])
            done.append({"id": entry["id"], "name": entry["name"], "title": entry["title"],
                         "size": entry["length"], "channels": entry["channels"]})
        if channel is not None:
            with self._lock:
                self.messages.append({"via": "files.completeUploadExternal",
                                      "channel": channel.id, "channel_name": channel.name,
                                      "files": [d["id"] for d in done],
                                      "text": params.get("initial_comment") or "",
                                      "ts": self._next_ts()})
        return _Answer(200, {"ok": True, "files": done})

    # -- incoming webhooks ------------------------------------------------------------------

    def _webhook(self, path: str, record: Received) -> _Answer:
        channel_id = self._webhooks.get(path)
        if channel_id is None:
            return _Answer(404, "no_service")
        channel = self.channels[channel_id]
        if channel.is_archived:
            return _Answer(410, "channel_is_archived")
        media = record.headers.get("content-type", "").split(";")[0].strip().lower()
        payload = record.json if media == "application/json" else None
        if not isinstance(payload, dict):
            return _Answer(400, "invalid_payload")
        record.params = payload
        text, blocks = payload.get("text"), payload.get("blocks")
        attachments = payload.get("attachments")
        if not text and not blocks and not attachments:
            return _Answer(400, "no_text")
        if attachments is not None and (not isinstance(attachments, list)
                                        or len(attachments) > limits.MESSAGE_ATTACHMENTS):
            return _Answer(400, "too_many_attachments" if isinstance(attachments, list)
                           else "invalid_payload")
        if blocks is not None and block_errors(blocks):
            return _Answer(400, "invalid_blocks")
        with self._lock:
            self.messages.append({"via": "webhook", "channel": channel.id,
                                  "channel_name": channel.name, "text": text or "",
                                  "blocks": blocks, "attachments": attachments,
                                  "ts": self._next_ts()})
        return _Answer(200, "ok")


def _json_field(value: Any, error: str) -> Any:
    """A list field: as JSON in a JSON body, or a JSON string in a form body."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _fail(error) from None
    return value


_METHODS = {
    "auth.test": SlackApiServer._auth_test,
    "chat.postMessage": SlackApiServer._post_message,
    "conversations.list": SlackApiServer._conversations_list,
    "files.getUploadURLExternal": SlackApiServer._get_upload_url,
    "files.completeUploadExternal": SlackApiServer._complete_upload,
}
