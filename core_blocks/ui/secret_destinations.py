"""Saved secrets never follow a block to a new destination unseen.

An edit in the page leaves a secret field blank to keep its saved value, since the page never
has it. That must not let someone who repoints a block (a webhook's `url`, a database `host`)
receive the secrets saved for the old one: when an edit changes a field that says where the
block connects, every saved secret field must be entered again (or cleared) in the same save.

A destination field is one named like an address (`url`, `host`, `port`, `endpoint_url`,
`base_url`, `account`, `..._url`...), or a nested block of a type that has one (AwsCredentials'
`aws_client_parameters` holds the `endpoint_url` its keys are sent to). A secret
destination (the webhook's `url`) counts as changed whenever it is entered: comparing it with
the saved value would let the page probe a secret.
"""

from __future__ import annotations

from typing import Any

_NAMES = frozenset({"url", "uri", "host", "hostname", "port", "endpoint", "server", "address",
                    "account", "dsn", "connection_string", "registry"})
_SUFFIXES = ("_url", "_uri", "_host", "_hostname", "_endpoint", "_server", "_address")


def is_destination(field: str) -> bool:
    """Whether a field's name says where the block connects."""
    name = field.lower()
    return name in _NAMES or name.endswith(_SUFFIXES)


def kept_secrets_refusal(cls, loaded, values: dict[str, Any]
                         ) -> tuple[str, dict[str, str]] | None:
    """Why an edit of loaded with values is refused, and each field's reason; None: allowed.

    values are the fields the edit sends, nested blocks already resolved; a secret left out
    keeps its saved value, which this refuses when a destination changes.
    """
    from core_blocks.block import secret_fields

    secrets = set(secret_fields(cls))
    changed = changed_destinations(cls, loaded, values)
    kept = [f for f in sorted(secrets) if f not in values and f not in changed
            and _is_set(getattr(loaded, f))]
    if not changed or not kept:
        return None
    moved, again = ", ".join(changed), ", ".join(kept)
    return (f"Not saved: {moved} changed where {cls._block_type_slug} connects, so enter its "
            f"saved secret field(s) {again} again (or clear them) in the same save; a saved "
            "secret is never sent to a new destination unseen.",
            {f: f"Enter it again, or clear it: {moved} changed." for f in kept})


def changed_destinations(cls, loaded, values: dict[str, Any]) -> list[str]:
    """The fields of an edit that change where the block connects."""
    from core_blocks.block import block_fields, secret_fields

    secrets = set(secret_fields(cls))
    nested = {f for f, types in block_fields(cls).items() if any(map(_connects, types))}
    return [f for f in values if (is_destination(f) or f in nested) and f in cls.model_fields
            and (f in secrets or _differs(getattr(loaded, f), values[f]))]


def referrers_refusal(store, cls, loaded, values: dict[str, Any]
                      ) -> tuple[str, dict[str, str]] | None:
    """Why an edit is refused because blocks that use this one hold saved secrets; None:
    allowed. Repointing AwsClientParameters' `endpoint_url` would send the keys of every
    AwsCredentials using it to the new endpoint, and the page cannot ask for those here."""
    changed = changed_destinations(cls, loaded, values)
    holders = _secret_holders_above(store, loaded._block_document_id) if changed else []
    if not holders:
        return None
    moved, users = ", ".join(changed), ", ".join(holders)
    return (f"Not saved: {moved} changed where {loaded.saved_ref} connects, and {users} "
            "use it with saved secrets, which would be sent to the new destination unseen. "
            "Save the new destination as a block of its own, then edit each of those blocks to "
            "use it, entering its secrets again.",
            {f: f"Used with saved secrets by {users}." for f in changed})


def _secret_holders_above(store, document_id: str, depth: int = 4) -> list[str]:
    """The named blocks that use this document, directly or through others, and hold saved
    secrets themselves or in a block inline between them ("type/name", sorted)."""
    found: set[str] = set()
    level = [(document_id, False)]
    for _ in range(depth):
        above = []
        for child_id, secret_below in level:
            for slug, name, _field in store.referrers(child_id):
                row = store.get_document(slug, name)
                if row is None:
                    continue
                holds = secret_below or row.secret_key is not None
                if holds and not row.anonymous:
                    found.add(row.ref)
                above.append((row.id, holds))
        level = above
    return sorted(found)


def _connects(cls, depth: int = 3) -> bool:
    """Whether a block type has a destination field, itself or in its nested block types."""
    from core_blocks.block import block_fields

    return any(map(is_destination, cls.model_fields)) or depth > 0 and any(
        _connects(t, depth - 1) for types in block_fields(cls).values() for t in types)


def _differs(saved: Any, new: Any) -> bool:
    from core_blocks.block import Block

    if isinstance(saved, Block) or isinstance(new, Block):
        ids = [getattr(b, "_block_document_id", None) if isinstance(b, Block) else b
               for b in (saved, new)]
        return ids[0] is None or ids[0] != ids[1]
    return saved != new and str(saved) != str(new)  # a URL type saved, its text sent


def _is_set(value: Any) -> bool:
    """Whether a saved secret field holds something to protect (not None, not empty)."""
    if value is None:
        return False
    reveal = getattr(value, "get_secret_value", None)
    return bool(reveal() if reveal else value)
