"""Build test images from a folder and remove every one of them afterwards."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from prefect_docker.host import DockerHost
from prefect_docker.translation import docker_errors


class ImageBuilder:
    """Callable building a folder into an image; `cleanup()` removes all it built.

        builder = ImageBuilder(DockerHost())
        tag = builder("tests/images/app")          # "core-blocks-test/app:3f2a..."
        builder.cleanup()
    """

    def __init__(self, host: DockerHost, prefix: str = "core-blocks-test"):
        self.host = host
        self.prefix = prefix
        self.tags: list[str] = []

    def __call__(self, path: str | Path, tag: str | None = None,
                 dockerfile: str = "Dockerfile", buildargs: dict[str, str] | None = None) -> str:
        """Build the folder `path` (legacy builder, no pull); return the image's tag."""
        path = Path(path)
        # a reference allows lowercase letters, digits and single separators only
        name = re.sub(r"[^a-z0-9]+", "-", path.resolve().name.lower()).strip("-") or "image"
        tag = tag or f"{self.prefix}/{name}:{uuid.uuid4().hex[:12]}"
        with self.host.get_client() as client, docker_errors(base_url=self.host.engine_url(),
                                                             image=tag):
            # rm/forcerm: no intermediate container is left, even after a failed step
            _, output = client.images.build(path=str(path), tag=tag, dockerfile=dockerfile,
                                            buildargs=buildargs, rm=True, forcerm=True)
            for _ in output:
                pass
        self.tags.append(tag)
        return tag

    def cleanup(self) -> list[str]:
        """Remove every image built here (their untagged parent layers go with them)."""
        removed = []
        with self.host.get_client() as client:
            for tag in reversed(self.tags):
                if _remove(client, tag):
                    removed.append(tag)
        self.tags.clear()
        return removed


def _remove(client: Any, tag: str) -> bool:
    from docker.errors import ImageNotFound

    try:
        client.images.remove(tag, force=True)
    except ImageNotFound:  # a test removed it already
        return False
    return True
