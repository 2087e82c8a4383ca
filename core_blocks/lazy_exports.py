"""Package attributes imported on first use, so importing a package (and the CLI) stays cheap.

Every package root (the core and each integration) uses the same idiom:

    _EXPORTS = {"S3Bucket": "prefect_aws.s3"}  # public name -> module defining it
    __all__ = sorted(_EXPORTS)
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)

    if TYPE_CHECKING:  # one import per name of _EXPORTS, for type checkers
        from prefect_aws.s3 import S3Bucket

Linters cannot read `sorted(_EXPORTS)`, so pyproject.toml ignores F401 for package roots;
tests/packaging checks that the imports and the dict name the same things.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: dict[str, str], names: Sequence[str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module's `__getattr__` and `__dir__` serving `exports` (name -> module) lazily.

        __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
    """

    def __getattr__(name: str) -> Any:
        if name in exports:
            value = getattr(import_module(exports[name]), name)
            setattr(sys.modules[package], name, value)  # later look-ups skip __getattr__
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return list(names)

    return __getattr__, __dir__
