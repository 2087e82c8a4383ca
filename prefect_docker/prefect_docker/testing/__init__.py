"""Test helpers for flows that use Docker: build contexts FROM scratch, a local registry, and
the pytest fixtures of `prefect_docker.testing.plugin` (registered by the package's `pytest11`
entry point: `docker_host`, `build_test_image`, `busybox_image`, `local_registry`).

Nothing here pulls from the internet: images start FROM scratch with a static busybox, and the
registry image is made from the `docker-registry` binary (Debian's package of that name).
"""
