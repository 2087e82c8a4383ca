"""The Docker SDK's exceptions as one clear sentence each (the classes of `errors`).

The engine answers most failures with a generic `APIError` whose text says what happened (a
wrong registry password even comes back as a 500), so the rules below match the class, the
HTTP status and the text, first match wins. Messages are our own templates filled with what
the caller knows (base URL, image, registry, user, container); the engine's own text appears
only in the catch-all, with any secret blanked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from prefect_docker.errors import (
    DockerContainerNameConflict,
    DockerContainerNotFound,
    DockerDaemonUnreachable,
    DockerError,
    DockerImageNotFound,
    DockerRegistryLoginFailed,
    DockerRegistryUnreachable,
)


class Rule(NamedTuple):
    """SDK exceptions named `names` (any class in their MRO; empty = any) but none of `unless`,
    with that status (None = any) and text matching `pattern`, become
    `error(message.format(...))`."""

    names: frozenset[str]
    status: int | None
    pattern: re.Pattern[str]
    error: type[DockerError]
    message: str
    retryable: bool = False
    unless: frozenset[str] = frozenset()


def _rule(names: str, status: int | None, pattern: str, error: type[DockerError], message: str,
          retryable: bool = False, unless: str = "") -> Rule:
    return Rule(frozenset(names.split()), status, re.compile(pattern, re.I), error, message,
                retryable, frozenset(unless.split()))


_UNREACHABLE = ("No Docker engine answers at {base_url}: start one (dockerd, Docker Desktop, "
                "colima...) or point DockerHost.base_url (or DOCKER_HOST) at a running one.")
_LOGIN = ("Registry {registry} refused the login of {username}: check the username and "
          "password of the DockerRegistryCredentials and its registry_url.")

# An APIError is the engine's own answer, so the engine is up: its "connection refused" is the
# engine failing to reach a registry, never us failing to reach the engine.
RULES: tuple[Rule, ...] = (
    _rule("ConnectionError", None, "", DockerDaemonUnreachable, _UNREACHABLE),
    _rule("DockerException", None, r"fetching server API version|Connection aborted|"
          r"Connection refused|No such file or directory", DockerDaemonUnreachable, _UNREACHABLE,
          unless="APIError"),
    _rule("APIError", None, r"dial tcp|i/o timeout|connection refused|TLS handshake timeout|"
          r"connection reset|no such host", DockerRegistryUnreachable,
          "Registry {registry} could not be reached from the Docker engine: check the "
          "registry's address, that it is running and that the engine's network reaches it "
          "({detail}).", retryable=True),
    _rule("APIError", 409, r"name .* is already in use", DockerContainerNameConflict,
          "A container named {name} already exists on {base_url}: remove it (docker rm -f "
          "{name}) or give this one another name."),
    _rule("APIError", None, r"no basic auth credentials", DockerRegistryLoginFailed,
          "Registry {registry} asks for credentials for {image}: pass "
          "docker_registry_credentials with a user it knows."),
    _rule("APIError", None, r"unauthorized|authentication required|login attempt .* failed|"
          r"\b401\b", DockerRegistryLoginFailed, _LOGIN),
    _rule("ImageNotFound", None, "", DockerImageNotFound,
          "Image {image} is not on the engine at {base_url}: pull or build it first."),
    _rule("NotFound", None, r"manifest .* not found|manifest unknown|repository does not exist|"
          r"pull access denied|name unknown", DockerImageNotFound,
          "Image {image} was not found in its registry {registry}: check the repository and "
          "tag, or push it first."),
    _rule("NotFound", None, r"no such container", DockerContainerNotFound,
          "No container {container} on the engine at {base_url}: check its id or name (it may "
          "have been removed already)."),
)


class _Where(dict):
    """Template values; what the caller did not say reads as a neutral placeholder."""

    def __missing__(self, key: str) -> str:
        return {"registry": "(the image's registry)", "username": "(no user)"}.get(
            key, f"(unknown {key})")


def status_of(exc: BaseException) -> int | None:
    try:
        return getattr(exc, "status_code", None)
    except AttributeError:  # APIError.status_code reads exc.response, which may be missing
        return None


def text_of(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc)


def translate(exc: BaseException, secrets: tuple[str, ...] = (), **where: Any) -> DockerError:
    """The DockerError for an SDK (or requests) exception; `where` fills the message."""
    if isinstance(exc, DockerError):
        return exc
    names = {cls.__name__ for cls in type(exc).__mro__}
    status, text = status_of(exc), text_of(exc)
    for name in secrets:  # the engine never echoes a password, but a catch-all must not either
        text = text.replace(name, "***") if name else text
    values = _Where({k: (repr(v) if isinstance(v, str) else str(v))
                     for k, v in where.items() if v is not None}, detail=text)
    for rule in RULES:
        if ((not rule.names or rule.names & names) and not rule.unless & names
                and rule.status in (None, status) and rule.pattern.search(text)):
            return rule.error(rule.message.format_map(values), retryable=rule.retryable)
    retryable = status in (502, 503, 504) or "timed out" in text.lower()
    return DockerError(f"The Docker engine at {values['base_url']} refused the request: "
                       f"{text.rstrip('.')}.", retryable=retryable)


def is_docker_failure(exc: BaseException) -> bool:
    """True for the SDK's exceptions and the requests errors it lets through."""
    module = type(exc).__module__.split(".")[0]
    return module in ("docker", "requests", "urllib3") or isinstance(exc, DockerError)


@contextmanager
def docker_errors(secrets: tuple[str, ...] = (), **where: Any) -> Iterator[None]:
    """Raise SDK failures inside the block as the DockerError that `translate` picks."""
    try:
        yield
    except Exception as exc:
        if not is_docker_failure(exc):
            raise
        # from None: the SDK's chain repeats the request (and, for logins, its auth header)
        raise translate(exc, secrets, **where) from None
