"""Store URLs in messages: shown without their password, whatever shape the URL is in.

A URL that does not parse (a bad %-escape, a port that is not a number, a stray '@') must
still not leak its password, so nothing here parses strictly: the text is cut by hand.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_QUERY_PASSWORD = re.compile(r"(?i)(?:^|[?&])password=([^&#]*)")
_MASK = "********"


def _netloc_and_rest(url: str) -> tuple[str, str, str]:
    """(scheme, netloc, path) cut at '://' and the first '/', '?' or '#' after it."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "", "", url
    end = len(rest)
    for mark in "/?#":
        index = rest.find(mark)
        if index != -1:
            end = min(end, index)
    return scheme, rest[:end], rest[end:]


def describe_url(url: str) -> str:
    """The store URL without its user, password or query (which may hold `password=`).

        >>> describe_url("postgresql://app:s3cret@db:5432/blocks?sslmode=require")
        'postgresql://db:5432/blocks'
    """
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///"):]
    scheme, netloc, rest = _netloc_and_rest(url)
    if not scheme:
        return "(not a URL)"
    host = netloc.rpartition("@")[2]  # after the last '@': a password may hold '@' too
    path = re.split(r"[?#]", rest, maxsplit=1)[0]
    return f"{scheme}://{host or 'localhost'}{path}"


def url_secrets(url: str) -> list[str]:
    """The password of a store URL in each form a driver's message might quote it.

    A password holding '@' or ':' is split differently by different parsers, so each
    piece of it counts too (pieces shorter than 3 characters would mask ordinary words).
    """
    scheme, netloc, rest = _netloc_and_rest(url)
    found: list[str] = []
    userinfo = netloc.rpartition("@")[0] if scheme else ""
    if ":" in userinfo:
        found.append(userinfo.partition(":")[2])  # the user name is not a secret
    found += _QUERY_PASSWORD.findall(rest)
    pieces = [p for value in found for p in re.split(r"[@:/]", value)]
    every = {form for value in [*found, *pieces] for form in (value, unquote(value))}
    return sorted((s for s in every if len(s) >= 3), key=len, reverse=True)


def mask_url_secrets(text: str, url: str) -> str:
    """text with every form of the URL's password replaced by ********."""
    for secret in url_secrets(url):
        text = text.replace(secret, _MASK)
    return text
