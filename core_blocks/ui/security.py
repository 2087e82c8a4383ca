"""Who may use the page: the bound Host only, the access token always, no cross-site writes.

- DNS rebinding: a page from another site that re-points its own name at 127.0.0.1 sends its
  own name as Host; only the names of the bound address are answered.
- Every request carries the access token (a cookie set when the URL printed at start is
  opened, or an `Authorization: Bearer` header), on loopback too: any local user can reach
  127.0.0.1, and the page reads every block and run and edits them. The token is random per
  start unless CORE_BLOCKS_UI_TOKEN sets one (an environment variable, as a command-line
  option would show it to every user in the process list).
- Writes (POST, PUT, DELETE) carry the page's CSRF token in a header, which another site can
  neither read nor send without a CORS preflight this server never grants, and their Origin,
  when sent, must be this server.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

COOKIE = "core_blocks_ui_token"  # and the port: browsers share cookies across a host's ports
CSRF_HEADER = "X-CSRF-Token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
TOKEN_ENV = "CORE_BLOCKS_UI_TOKEN"
# It travels in a URL and a cookie, so URL-safe characters; long enough not to be guessed.
_TOKEN = re.compile(r"[A-Za-z0-9._~-]{16,}")


class TokenError(ValueError):
    """The configured access token is unusable."""


def configured_token(environ: dict[str, str]) -> str | None:
    """CORE_BLOCKS_UI_TOKEN when set (checked), else None for a random one."""
    token = environ.get(TOKEN_ENV)
    if token is None:
        return None
    if not _TOKEN.fullmatch(token):  # the value is not echoed: it is a secret
        raise TokenError(f"{TOKEN_ENV} must be 16 or more letters, digits, '.', '_', '~' or "
                         "'-'. Set a longer one, or unset it for a random token per start.")
    return token


def is_loopback(host: str) -> bool:
    """Whether host (a name or an address) stays on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_wildcard(host: str) -> bool:
    return host.strip("[]") in ("0.0.0.0", "::", "")


@dataclass
class Guard:
    """The checks for one server bound to host:port; tokens are made once, at start."""

    host: str
    port: int
    access_token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    @classmethod
    def for_address(cls, host: str, port: int, token: str | None = None) -> Guard:
        """A guard for host:port asking for token, or a random one, on every address."""
        return cls(host, port, token) if token else cls(host, port)

    def allowed_hosts(self) -> set[str]:
        """The Host header values answered (any, with a token, on a wildcard address)."""
        names = {self.host if ":" not in self.host else f"[{self.host.strip('[]')}]"}
        if is_loopback(self.host):
            names.update(LOOPBACK_NAMES)
        return {f"{n}:{self.port}" for n in names} | (names if self.port == 80 else set())

    def host_refusal(self, host_header: str | None) -> str | None:
        """Why a request with this Host header is refused, or None."""
        if _is_wildcard(self.host):
            return None  # reached by any of the machine's names; the token does the work
        if (host_header or "").lower() in self.allowed_hosts():
            return None
        return ("Unexpected Host header: open the page at the address blocks ui printed, "
                f"http://{sorted(self.allowed_hosts())[0]}/.")

    def token_ok(self, cookie_header: str | None, authorization: str | None,
                 query_token: str | None) -> bool:
        """Whether the request carries the access token, compared in constant time."""
        offered = []
        if query_token:
            offered.append(query_token)
        if authorization and authorization.startswith("Bearer "):
            offered.append(authorization[len("Bearer "):])
        if cookie_header:
            morsel = SimpleCookie(cookie_header).get(self.cookie_name)
            if morsel is not None:
                offered.append(morsel.value)
        return any(hmac.compare_digest(t.encode(), self.access_token.encode()) for t in offered)

    def write_refusal(self, csrf_header: str | None, origin: str | None,
                      host_header: str | None) -> str | None:
        """Why a POST, PUT or DELETE is refused as possibly cross-site, or None."""
        if not csrf_header or not hmac.compare_digest(csrf_header.encode(),
                                                      self.csrf_token.encode()):
            return (f"Missing or wrong {CSRF_HEADER} header: changes are accepted only from "
                    "the page itself. Reload the page and try again.")
        if origin is not None and origin != f"http://{host_header}":
            return "Cross-site request refused: its Origin is not this page's."
        return None

    @property
    def cookie_name(self) -> str:
        return f"{COOKIE}_{self.port}"

    def cookie_header(self) -> str:
        """Set-Cookie for the access token: sent back by the browser, unreadable by scripts."""
        return f"{self.cookie_name}={self.access_token}; Path=/; HttpOnly; SameSite=Strict"
