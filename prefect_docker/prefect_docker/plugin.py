"""core-blocks-docker's plugin (entry point `docker`): its block types.

The block modules are imported inside the hook and import Docker's SDK only inside the
methods that call the engine, so discovery (`blocks types`) never pays for it.
"""

from core_blocks import hookimpl


@hookimpl
def register_block_types():
    from prefect_docker.credentials import DockerRegistryCredentials
    from prefect_docker.host import DockerHost

    return [DockerHost, DockerRegistryCredentials]
