"""Masking secrets in an SDK's log records: the values a block handed to the SDK, and text
shaped like a secret (a session token header, a `xoxb-…` token).

An integration makes one `SecretLogFilter` and, when it builds a client (so importing the
integration costs nothing), adds the secret values and installs the filter on the SDK's
loggers. A logger's filters see only its own records, not its children's, so the filter goes
on every logger that prints.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

MASK = "**********"


def _masked_match(match: re.Match[str]) -> str:
    """A pattern's match masked, its first group (the name before the secret) kept."""
    return (match.group(1) if match.re.groups else "") + MASK


class SecretLogFilter(logging.Filter):
    """Rewrites a record whose text holds a secret; the record is always kept.

        >>> hide = SecretLogFilter("demo", patterns=[re.compile(r"(token=)\\w+")])
        >>> hide.add_values("hunter2-secret")
        >>> hide.mask("token=abc pass=hunter2-secret")
        'token=********** pass=**********'
    """

    def __init__(self, name: str, patterns: Iterable[re.Pattern[str]] = (),
                 min_length: int = 4) -> None:
        super().__init__(name)
        self.patterns = tuple(patterns)  # a first group is kept: the name before the secret
        self.min_length = min_length  # shorter values would garble every line
        self.values: tuple[str, ...] = ()  # longest first, so a value holding another goes whole
        self._lock = threading.Lock()
        self._installed: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a broken record is the handler's to report, as without us
            return True
        masked = self.mask(text)
        if masked != text:
            record.msg, record.args = masked, ()
        return True

    def mask(self, text: str, values: Iterable[str] | None = None) -> str:
        """text with the given values (default: the ones added) and the patterns masked."""
        for value in self.values if values is None else values:
            if value in text:
                text = text.replace(value, MASK)
        for pattern in self.patterns:
            text = pattern.sub(_masked_match, text)
        return text

    def add_values(self, *secrets: str | None) -> None:
        """Mask these values too (None and values shorter than min_length are ignored)."""
        new = {s for s in secrets if s and len(s) >= self.min_length}
        with self._lock:
            if new - set(self.values):
                self.values = tuple(sorted(set(self.values) | new, key=len, reverse=True))

    def install(self, logger_names: Iterable[str]) -> None:
        """Put the filter on these loggers (each once)."""
        with self._lock:
            for name in logger_names:
                if name not in self._installed:
                    logging.getLogger(name).addFilter(self)
                    self._installed.add(name)
