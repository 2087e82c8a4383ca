"""Block names and type slugs: the rules, and turning class names into slugs."""

import re

from core_blocks.errors import BlockNameError

_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_MAX_NAME = 100
NAME_RULE = (
    "use lowercase letters, digits and single dashes, starting and ending with a letter or "
    f"digit, at most {_MAX_NAME} characters (e.g. 'prod-db')"
)


def check_name(name: object, what: str = "block name") -> str:
    """Return the name if it follows the naming rule, else raise BlockNameError saying the rule."""
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > _MAX_NAME:
        raise BlockNameError(f"Invalid {what} {name!r}: {NAME_RULE}.")
    return name


def slugify(text: str) -> str:
    """'AWS Credentials' -> 'aws-credentials'; 'S3Bucket' -> 's3-bucket'."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
    return "-".join(re.findall(r"[a-z0-9]+", spaced.lower()))


def split_ref(ref: str) -> "tuple[str, str]":
    """'type-slug/name' -> ('type-slug', 'name'), refusing anything else with the form stated."""
    slug, sep, name = ref.partition("/")
    if not sep or not slug or not name or "/" in name:
        raise BlockNameError(
            f"Invalid block reference {ref!r}: write it as TYPE/NAME, e.g. 'secret/prod-db'."
        )
    return slug, name
