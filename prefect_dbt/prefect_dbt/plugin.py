"""core-blocks-dbt's plugin (entry point `dbt`): the block types it adds.

Block modules are imported inside the hook, never dbt's SDK, so discovery stays fast.
"""

from core_blocks import hookimpl


@hookimpl
def register_block_types():
    # DbtCliProfile and the target configs arrive with their own issue.
    return []
