"""The class attributes a block author sets, checked when the class is defined.

Spelled as Prefect spells them, so a block written for Prefect keeps its source. A misspelt or
wrongly typed attribute is a TypeError at the class statement, not a surprise at save time.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CAPABILITY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else "a string"


def _display_name(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "a non-empty string"


def _slug(value: Any) -> str | None:
    if isinstance(value, str) and _SLUG.match(value):
        return None
    return "kebab-case text such as 'aws-credentials'"


def _url(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and value.startswith(("https://", "http://"))):
        return None
    return "None or an http(s):// URL"


def _optional_text(value: Any) -> str | None:
    return None if value is None or isinstance(value, str) else "None or a string"


def _capabilities(value: Any) -> str | None:
    if isinstance(value, (tuple, list)) and all(
            isinstance(c, str) and _CAPABILITY.match(c) for c in value):
        return None
    return "a tuple of kebab-case names such as ('read-path', 'write-path')"


# name -> (check returning what was expected, or None when the value is right; what it is for)
BLOCK_ATTRIBUTES: dict[str, tuple[Any, str]] = {
    "_block_type_name": (_display_name, "display name; default: the class name"),
    "_block_type_slug": (_slug, "type slug in 'slug/name' references; default: kebab-case of "
                                "the display name"),
    "_description": (_text, "one-line description; default: the docstring's first paragraph"),
    "_documentation_url": (_url, "link to the service's or the block's documentation"),
    "_logo_url": (_url, "link to a logo image for the block type"),
    "_code_example": (_optional_text, "a short usage example shown with the type"),
    "_capabilities": (_capabilities, "what the block can do; inherited from its interface "
                                     "(NotificationBlock: ('notify',))"),
}

# Private attributes of Block itself: set by save and load, never by an author.
_RUNTIME_ATTRIBUTES = {"_block_document_id", "_block_document_name", "_block_document_version",
                       "_is_anonymous"}


def check_block_attributes(cls: type, own: dict[str, Any], private: set[str]) -> None:
    """Raise TypeError for a wrongly typed block attribute or a near miss of one's name.

    `own` is the class's own namespace, `private` the names pydantic took as private
    attributes (an underscore name pydantic does not know becomes one).
    """
    for name, (check, _) in BLOCK_ATTRIBUTES.items():
        if name in own:
            expected = check(own[name])
            if expected is not None:
                raise TypeError(f"{cls.__name__}.{name} must be {expected}, not "
                                f"{type(own[name]).__name__} {own[name]!r}.")
    if "_capabilities" in own and isinstance(own["_capabilities"], list):
        type.__setattr__(cls, "_capabilities", tuple(own["_capabilities"]))
    values = {n for n, v in own.items() if not callable(v) and not hasattr(v, "__get__")}
    for name in sorted((values | private) - set(BLOCK_ATTRIBUTES) - _RUNTIME_ATTRIBUTES):
        near = difflib.get_close_matches(name, BLOCK_ATTRIBUTES, n=1, cutoff=0.8)
        if near or name.startswith("_block_"):
            hint = f"did you mean {near[0]}? " if near else ""
            raise TypeError(f"{cls.__name__}.{name} is not a block attribute; {hint}"
                            f"block attributes are: {', '.join(BLOCK_ATTRIBUTES)}.")
