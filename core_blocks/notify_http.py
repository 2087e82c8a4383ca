"""The HTTP transport every notifier shares: secret URL and headers, a timeout, safe retries.

`NotificationBlock.post_http` calls `send` here. What it guarantees:

- The URL and the header values never appear in an error message, a log record, a repr, or
  an exception chained to the error (`__cause__`/`__context__` are both empty).
- Errors are one sentence naming the block (`Webhook 'alerts'`) and the fix; the fix depends
  on the status and a notifier can override it (`remedies`).
- A request that may not be repeated (`idempotent=False`) is sent again only when the
  receiver provably did not act on it: the connection could not be opened, or it answered
  429. An idempotent one is also retried after a 5xx or a dropped connection. Both honour
  Retry-After up to RETRY_AFTER_CAP_SECONDS.
"""

from __future__ import annotations

import functools
import json as jsonlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core_blocks.errors import NotificationError

logger = logging.getLogger("core_blocks.notify")

ATTEMPTS = 3  # one send and at most two retries: a notifier must not hold up a failing flow
BACKOFF_SECONDS = 0.5  # doubled after each retry
RETRY_AFTER_CAP_SECONDS = 10.0  # a longer Retry-After is not waited for: the error says so

# Keys: an exact status, "3xx"/"4xx"/"5xx" for the rest of a class, and three failures
# without a status. Notifiers override any of them with `remedies=`.
DEFAULT_REMEDIES: dict[int | str, str] = {
    "invalid_url": "set its URL again (http:// or https://) and keep header values ASCII",
    "unreachable": "check its URL and that the receiver is up",
    "timeout": "the receiver is slow or down; raise timeout_seconds or retry later",
    "3xx": "the receiver redirects elsewhere; set the URL it redirects to",
    401: "its credentials were refused; check its URL and headers",
    403: "its credentials were refused; check its URL and headers",
    404: "nothing answers at its URL; check it",
    429: "the receiver is rate limiting it; retry later",
    "4xx": "the receiver refused the message; check its URL, headers and body",
    "5xx": "the receiver had a server error; retry later",
}


@dataclass(frozen=True)
class HttpAnswer:
    """What the receiver answered; it carries neither the URL nor the request headers."""

    status_code: int
    headers: Mapping[str, str] = field(repr=False)
    content: bytes = field(repr=False)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not JSON."""
        return jsonlib.loads(self.content)


def remedy(remedies: Mapping[int | str, str], key: int | str) -> str:
    """The fix for a status (exact, then its class) or a failure kind."""
    if key in remedies:
        return remedies[key]
    if isinstance(key, int):
        return remedies.get(f"{key // 100}xx") or remedies["4xx"]
    return DEFAULT_REMEDIES[key]


def send(label: str, method: str, url: str, *, json: Any = None,
         content: bytes | str | None = None, headers: Mapping[str, str] | None = None,
         timeout: float, idempotent: bool,
         remedies: Mapping[int | str, str] | None = None,
         explain: Callable[[HttpAnswer], str] | None = None) -> HttpAnswer:
    """Send one request for the notifier `label`; see NotificationBlock.post_http."""
    import httpx

    from core_blocks.http_logging import secret_urls_hidden

    fixes = {**DEFAULT_REMEDIES, **(remedies or {})}
    secrets = secret_parts(url, (headers or {}).values())
    for attempt in range(1, ATTEMPTS + 1):
        failure = wait = None
        kind = ""
        answer: HttpAnswer | None = None
        try:
            with secret_urls_hidden():
                response = httpx.request(method, url, json=json, content=content,
                                         headers=headers, timeout=timeout,
                                         verify=_tls_context())
            answer = HttpAnswer(response.status_code,
                                {k.lower(): v for k, v in response.headers.items()},
                                response.content)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, UnicodeError) as exc:
            failure, kind = "invalid_url", type(exc).__name__
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # Nothing was sent: repeating cannot deliver the message twice.
            failure, kind = "unreachable", type(exc).__name__
            wait = _backoff(attempt)
        except httpx.TimeoutException as exc:
            failure, kind = "timeout", type(exc).__name__
            wait = _backoff(attempt) if idempotent else None
        except httpx.HTTPError as exc:  # dropped mid-request: the receiver may have acted
            failure, kind = "unreachable", type(exc).__name__
            wait = _backoff(attempt) if idempotent else None
        # Errors are raised here, outside the except blocks, so none carries httpx's
        # exception (whose text may quote the URL) as its __context__.
        if answer is not None:
            if 200 <= answer.status_code < 300:
                return answer
            wait = _retry_wait(answer, attempt, idempotent)
        if wait is not None and attempt < ATTEMPTS:
            what = f"HTTP {answer.status_code}" if answer is not None else kind
            logger.info("%s: %s, sending again in %.1f s (attempt %d of %d)",
                        label, what, wait, attempt + 1, ATTEMPTS)
            time.sleep(wait)
            continue
        if failure == "invalid_url":
            what = ("a URL or header with characters HTTP cannot carry"
                    if kind.startswith("Unicode") else "a URL that is not valid")
            raise NotificationError(f"{label} has {what} ({kind}); "
                                    f"{remedy(fixes, 'invalid_url')}.")
        if failure == "timeout":
            raise NotificationError(f"{label} got no answer within {timeout:g} s ({kind}); "
                                    f"{remedy(fixes, 'timeout')}.")
        if failure == "unreachable":
            raise NotificationError(f"{label} could not be reached ({kind}); "
                                    f"{remedy(fixes, 'unreachable')}.")
        assert answer is not None
        reason = scrubbed(explain(answer), secrets) if explain else ""
        reason = f" ({reason})" if reason else ""
        tries = f" after {attempt} attempts" if attempt > 1 else ""
        raise NotificationError(f"{label} got HTTP {answer.status_code}{reason}{tries}; "
                                f"{remedy(fixes, answer.status_code)}.")
    raise AssertionError("unreachable: the last attempt returns or raises")


@functools.cache
def _tls_context() -> Any:
    """httpx's default TLS context (certifi's CAs, SSL_CERT_FILE read once), made once per
    process: building it loads the CA bundle, about 45 ms that every notification paid."""
    import httpx

    return httpx.create_ssl_context()


def _backoff(attempt: int) -> float:
    return BACKOFF_SECONDS * 2 ** (attempt - 1)


def _retry_wait(answer: HttpAnswer, attempt: int, idempotent: bool) -> float | None:
    """Seconds to wait before sending again, or None not to send again."""
    status = answer.status_code
    if not (status == 429 or (idempotent and status >= 500)):
        return None
    asked = retry_after_seconds(answer.headers.get("retry-after"))
    if asked is None:
        return _backoff(attempt)
    return asked if asked <= RETRY_AFTER_CAP_SECONDS else None


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (it is a number or an HTTP date); None when absent or garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def http_url_problem(url: str, https_only: bool = False) -> str | None:
    """Why url cannot be a notifier's endpoint, in words that never quote it; None if it can.

    It needs the scheme http or https (https_only: http only to this machine, where nothing
    crosses a network), a host, a numeric port if any, and no spaces.

        >>> http_url_problem("not a url"), http_url_problem("https://hooks.example/T0")
        ('has no http:// or https:// scheme', None)
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "has a malformed host or port"
    if parts.scheme not in ("http", "https"):
        return "has no http:// or https:// scheme"
    if not parts.hostname:
        return "has no host"
    if any(c.isspace() for c in url.strip()):
        return "contains spaces"
    if https_only and parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS:
        return "is http://, which sends it unencrypted; use https://"
    return None


_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def secret_parts(url: str, header_values: Iterable[str]) -> list[str]:
    """The strings a server may echo back that give a secret away, longest first.

    A receiver quoting the request rarely quotes the whole URL: its path, a path segment or a
    query value (a token) and a header's credential after 'Bearer ' count as well. Parts
    shorter than 8 characters ('hooks', 'v2') are words, not secrets.
    """
    from urllib.parse import parse_qsl, urlsplit

    header_values = list(header_values)
    parts = {url, *header_values}
    try:
        split = urlsplit(url)
    except ValueError:
        split = None
    if split is not None:
        parts.update({split.path, f"{split.path}?{split.query}", split.query,
                      *split.path.split("/"), *(v for _, v in parse_qsl(split.query))})
        if split.password:
            parts.add(split.password)
    for value in header_values:
        parts.update(value.split())
    return sorted((p for p in parts if len(p) >= 8), key=len, reverse=True)


def scrubbed(text: str, secrets: list[str]) -> str:
    """Server text on one line, cut short, with the secret parts of the request blanked out."""
    for secret in secrets:
        text = text.replace(secret, "**********")
    return " ".join(text.split())[:300]
