"""The secret values run text and run logs are masked with, in every form they may be
quoted; and the cap on a run's long texts (masked_capped).

Two sources: what each tree of runs received (secret parameters, secret fields of blocks
passed in), and every value this process has read from a secret backend (a block's secret
fields when it loads, nested blocks' included, and whatever a `SecretBlock.get()` returns).

A value is masked as written and in the forms it takes inside other text: a repr or JSON
string, URL-encoded (`quote`, `quote_plus`), and base64 (standard and URL-safe alphabets,
padded or not, also where it sits inside a longer encoded text, such as `user:password` of a
Basic auth header). Values shorter than MIN_MASKED_LENGTH are not masked: "on" or "x" would
garble every line.
"""

from __future__ import annotations

import base64
import json
import threading
import weakref
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "**********"
MIN_MASKED_LENGTH = 4
_generation = 0  # bumped by every addition anywhere: cached unions compare it
_live: weakref.WeakSet[SecretValues] = weakref.WeakSet()  # every SecretValues holding values
_lock = threading.Lock()


def masked_forms(value: str | bytes) -> set[str]:
    """The texts that quote value: itself, escaped, URL-encoded and base64-encoded.

        >>> sorted(masked_forms("pa ss"))
        ['BhIHNz', 'cGEgc3', 'cGEgc3M', 'cGEgc3M=', 'pa ss', 'pa%20ss', 'pa+ss', 'wYSBzc']
    """
    if isinstance(value, str):
        text, data = value, value.encode("utf-8", "surrogatepass")
    else:
        data = bytes(value)
        text = data.decode("utf-8", "replace")
    if len(data) < MIN_MASKED_LENGTH and len(text) < MIN_MASKED_LENGTH:
        return set()
    forms = {text, repr(text)[1:-1], json.dumps(text)[1:-1],
             json.dumps(text, ensure_ascii=False)[1:-1],
             quote(text, safe=""), quote(text), quote_plus(text)}
    if isinstance(value, bytes):
        forms.add(repr(data)[2:-1])
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        forms.update(_base64_forms(data, encode))
    return {form for form in forms if len(form) >= MIN_MASKED_LENGTH}


def _base64_forms(data: bytes, encode) -> set[str]:
    """value's base64 text, padded and not, and for each of the three alignments it may have
    inside a longer encoded text, the characters that depend on value's bytes alone."""
    full = encode(data).decode()
    forms = {full, full.rstrip("=")}
    for offset in range(3):
        encoded = encode(b"\0" * offset + data).decode().rstrip("=")
        first = -(-8 * offset // 6)  # the first character holding no bit of the filler
        last = 8 * (offset + len(data)) // 6  # past the last one fully inside value
        forms.add(encoded[first:last])
    return forms


class SecretValues:
    """A set of secret values, masked in every form (see masked_forms), longest form first.

    One per tree of runs (a flow, its tasks and subflows), and `read_secrets` for the values
    read from secret backends. Thread-safe: runs of one flow add to it from several threads;
    masking reads an immutable snapshot. The values are kept as long as the runs holding them.
    """

    def __init__(self) -> None:
        self._forms: tuple[str, ...] = ()
        self._values: set[str | bytes] = set()

    def add(self, values: Iterable[str | bytes]) -> None:
        """Mask these values too (those shorter than MIN_MASKED_LENGTH excepted)."""
        global _generation
        new = [v for v in values if v not in self._values]
        if not new:
            return
        with _lock:
            forms = set(self._forms)
            for value in new:
                self._values.add(value)
                forms |= masked_forms(value)
            if len(forms) != len(self._forms):
                self._forms = tuple(sorted(forms, key=len, reverse=True))
                _generation += 1
                _live.add(self)

    def forms(self) -> tuple[str, ...]:
        """What mask replaces: every secret this process knows (see every_form), these
        values among them. Masking another tree's secret too costs nothing and hides more."""
        return every_form()

    def mask(self, text: str | None) -> str | None:
        """text with every secret value replaced by MASK."""
        return mask_forms(text, self.forms()) if text else text

    def masked_error(self, error: tuple[str | None, str | None, str | None]
                     ) -> tuple[str | None, str | None, str | None]:
        """A run's (type, message, traceback), secret values masked and each text capped."""
        kind, message, trace = error
        return kind, masked_capped(message, self), masked_capped(trace, self)


def _longest_first(*groups: tuple[str, ...]) -> tuple[str, ...]:
    merged = set().union(*groups)
    return tuple(sorted(merged, key=len, reverse=True))


def mask_forms(text: str, forms: tuple[str, ...]) -> str:
    """text with each of forms (longest first) replaced by MASK.

    With many forms and a short text, only the forms starting with one of the text's
    4-character pieces are looked for: a process that has read 200 secrets (about 3,000
    forms) would otherwise search each log line 3,000 times.
    """
    # Estimated nanoseconds: a search costs ~50 plus ~1 per 3 characters; an index probe ~100.
    if len(forms) * (50 + len(text) // 3) > 100 * len(text):
        forms = _candidates(text, forms)
    for form in forms:
        if form in text:
            text = text.replace(form, MASK)
    return text


_index: tuple[tuple[str, ...], dict[str, list[str]]] = ((), {})


def _candidates(text: str, forms: tuple[str, ...]) -> list[str]:
    """The forms whose first MIN_MASKED_LENGTH characters occur in text, longest first."""
    global _index
    indexed, index = _index
    if indexed is not forms:  # one index for the newest set of forms: the one in use
        index = {}
        for form in forms:
            index.setdefault(form[:MIN_MASKED_LENGTH], []).append(form)
        _index = (forms, index)
    found: set[str] = set()
    for start in range(len(text) - MIN_MASKED_LENGTH + 1):
        hits = index.get(text[start:start + MIN_MASKED_LENGTH])
        if hits:
            found.update(hits)
    return sorted(found, key=len, reverse=True)


read_secrets = SecretValues()  # every value this process read from a secret backend


def remember_read(value: Any) -> None:
    """Mask value (a str or bytes; a dict's or list's values at any depth) from now on, in
    every run's text and log: it was read from a secret backend."""
    found: list[str | bytes] = []
    _plain_values(value, found, 0)
    if found:
        read_secrets.add(found)


def forget_read() -> None:
    """Stop masking the values read so far (the testing plugin calls it between tests)."""
    global _generation
    with _lock:
        read_secrets._values.clear()
        read_secrets._forms = ()
        _generation += 1


def _plain_values(value: Any, found: list[str | bytes], depth: int) -> None:
    if depth > 8:
        return
    if hasattr(value, "get_secret_value"):  # a SecretStr, SecretBytes or SecretDict
        value = value.get_secret_value()
    if isinstance(value, (str, bytes)):
        found.append(value)
    elif isinstance(value, (bytearray, memoryview)):
        found.append(bytes(value))
    elif isinstance(value, dict):
        for item in value.values():
            _plain_values(item, found, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _plain_values(item, found, depth + 1)


_log_union: tuple[int, tuple[str, ...]] = (-1, ())


def every_form() -> tuple[str, ...]:
    """The forms of every secret known to this process: read from a backend, or received by
    a run tree still referenced. What run logs are masked with."""
    global _log_union
    generation, union = _log_union
    if generation != _generation:
        generation = _generation
        with _lock:
            groups = [values._forms for values in _live]
        union = _longest_first(read_secrets._forms, *groups)
        _log_union = (generation, union)
    return union


def mask_known(text: str) -> str:
    """text with every secret this process knows (see every_form) masked."""
    forms = every_form()
    return mask_forms(text, forms) if forms else text


# -- capping long text ------------------------------------------------------------------------

MAX_TEXT = 64 * 1024  # characters kept of a run's error message, traceback or state message


def masked_capped(text: str | None, secrets: SecretValues, limit: int = MAX_TEXT) -> str | None:
    """text masked with secrets and cut to about `limit` characters: its start and its end,
    with a note of how many characters were cut between them.

    Only the kept ends are masked, so a 20 MB message costs no scan per secret form; a cut
    never falls inside a secret, so no part of one is left unmasked at the cut.
    """
    if not text:
        return text
    forms = secrets.forms()
    if len(text) <= limit:
        return mask_forms(text, forms)
    half = limit // 2
    head, tail = _clear_of(text, half, forms, -1), _clear_of(text, len(text) - half, forms, +1)
    if head >= tail:  # one secret spans both cuts: mask it all, then cut the masked text
        masked = mask_forms(text, forms)
        head, tail, text = half, max(len(masked) - half, half), masked
    return (mask_forms(text[:head], forms) + f"\n[… {tail - head:,} characters cut …]\n"
            + mask_forms(text[tail:], forms))


def _clear_of(text: str, at: int, forms: tuple[str, ...], step: int) -> int:
    """A cut position near `at` that falls inside no occurrence of a form: moved toward the
    start (step -1) or the end (+1) until it does not."""
    moved = True
    while moved:
        moved = False
        for form in forms:
            width = len(form)
            # Found in this window, an occurrence starts before the cut and ends after it.
            start = text.find(form, max(at - width + 1, 0), at + width - 1)
            if start != -1:
                at = start if step < 0 else start + width
                moved = True
    return at
