"""core-blocks-dbt: dbt blocks and tasks for core-blocks (a skeleton for now).

Its block types will be exported here, loaded on first use like every package's
(`core_blocks.lazy_exports`); dbt's SDK is imported only by the methods that call it.
"""

from core_blocks.lazy_exports import lazy_exports

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {}  # public name -> module defining it

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)

# With the first export, add `if TYPE_CHECKING:` imports of each name, as prefect_aws does.
