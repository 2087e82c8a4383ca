"""core-blocks-docker's plugin (entry point `docker`): the block types it adds.

Block modules are imported inside the hook, never Docker's SDK, so discovery stays fast.
"""

from core_blocks import hookimpl


@hookimpl
def register_block_types():
    # DockerHost and DockerRegistryCredentials arrive with their own issue.
    return []
