"""Helpers Prefect's prefect_aws.utilities offers: a hash of nested data, and building a
document that JSON Patch operations can apply to."""

from __future__ import annotations

from typing import Any


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, set):
        return frozenset(_frozen(item) for item in value)
    return value


def hash_collection(collection: Any) -> int:
    """A hash of nested dicts and lists (unhashable as they are), equal for equal data
    whatever the dicts' key order.

        >>> hash_collection({"a": [1, 2]}) == hash_collection({"a": [1, 2]})
        True
    """
    return hash(_frozen(collection))


def ensure_path_exists(doc: dict | list, path: list[str]) -> None:
    """Create what `path` (JSON Pointer parts: keys, and list indexes as digits) needs in
    `doc`: missing objects as {}, a list where the next part is an index, list items up to
    that index as {}. What exists stays. `path` is left as given.

        >>> doc = {}
        >>> ensure_path_exists(doc, ["containers", "0", "env"])
        >>> doc
        {'containers': [{'env': {}}]}
    """
    level: Any = doc
    for position, part in enumerate(path):
        next_is_index = position + 1 < len(path) and path[position + 1].isdigit()
        empty: Any = [] if next_is_index else {}
        if isinstance(level, list):
            index = int(part)
            level.extend({} for _ in range(index + 1 - len(level)))
            if next_is_index and not isinstance(level[index], list):
                level[index] = empty
            level = level[index]
        else:
            if part not in level or (next_is_index and not isinstance(level[part], list)):
                level[part] = empty
            level = level[part]


def assemble_document_for_patches(patches: list[dict[str, Any]]) -> dict[str, Any]:
    """The smallest document the JSON Patch operations `patches` apply to: an "add" needs
    its target's parent, any other operation its target itself.

        >>> assemble_document_for_patches([{"op": "add", "path": "/a/b", "value": 1},
        ...                                {"op": "remove", "path": "/c"}])
        {'a': {}, 'c': {}}
    """
    document: dict[str, Any] = {}
    for patch in patches:
        parts = patch["path"].lstrip("/").split("/")
        ensure_path_exists(document, parts[:-1] if patch["op"] == "add" else parts)
    return document
