"""Whether the block classes being defined now come from plugins the registry is loading.

A class claiming a slug that another class holds is refused when it is defined, except while
plugins load: a user's class may have been defined earlier (that one is refused when saved),
and the registry judges plugins that claim one slug, so the import of a core or plugin type
never fails over someone else's. Its own module, so the registry (and `blocks --help`) can
set it without importing pydantic.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_loading_plugins: ContextVar[bool] = ContextVar("core_blocks_loading_plugins", default=False)


@contextmanager
def loading_plugins() -> Iterator[None]:
    """Mark block classes defined inside as plugin types."""
    token = _loading_plugins.set(True)
    try:
        yield
    finally:
        _loading_plugins.reset(token)


def plugins_loading() -> bool:
    """True inside loading_plugins()."""
    return _loading_plugins.get()
