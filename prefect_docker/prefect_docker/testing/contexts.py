"""Build contexts for test images made FROM scratch out of host binaries (nothing pulled)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from core_blocks.errors import CoreBlocksError

BUSYBOX_DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
"""

REGISTRY_CONFIG = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
auth:
  htpasswd:
    realm: test-registry
    path: /etc/registry/htpasswd
http:
  addr: 127.0.0.1:5000
  secret: test-registry-not-a-secret
health:
  storagedriver:
    enabled: false
"""

REGISTRY_DOCKERFILE = """\
FROM scratch
COPY rootfs/ /
COPY config.yml htpasswd /etc/registry/
ENTRYPOINT ["/bin/registry", "serve", "/etc/registry/config.yml"]
"""


class MissingTool(CoreBlocksError, FileNotFoundError):
    """A host program the test images are made of is not installed."""


def find_tool(names: tuple[str, ...], package: str) -> Path:
    """The first of `names` on PATH, or MissingTool naming the package to install."""
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found).resolve()
    raise MissingTool(f"{' or '.join(names)} is not installed: install it (Debian: apt-get "
                      f"install {package}) to build the test images.")


def busybox_context(dest: Path, extra_dockerfile: str = "") -> Path:
    """A context for an image FROM scratch with a static busybox as /bin/sh and its applets;
    extra_dockerfile lines follow the base ones."""
    busybox = find_tool(("busybox",), "busybox-static")
    if _shared_libraries(busybox):
        raise MissingTool(f"{busybox} is linked dynamically: install a static busybox "
                          "(Debian: apt-get install busybox-static).")
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(busybox, dest / "busybox")
    (dest / "Dockerfile").write_text(BUSYBOX_DOCKERFILE + extra_dockerfile)
    return dest


def registry_context(dest: Path, username: str, password: str) -> Path:
    """A context for a registry image FROM scratch: the host's docker-registry binary with its
    shared libraries, htpasswd auth for one user. Listens on 127.0.0.1:5000 unless the
    container's REGISTRY_HTTP_ADDR says otherwise (run it with network_mode host)."""
    binary = find_tool(("docker-registry", "registry"), "docker-registry")
    rootfs = dest / "rootfs"
    (rootfs / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(binary, rootfs / "bin" / "registry")
    for library in _shared_libraries(binary):  # ldd's list: libc and the loader, on Debian
        target = rootfs / library.relative_to("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(library, target)
    (dest / "config.yml").write_text(REGISTRY_CONFIG)
    (dest / "htpasswd").write_text(htpasswd_line(username, password))
    (dest / "Dockerfile").write_text(REGISTRY_DOCKERFILE)
    return dest


def htpasswd_line(username: str, password: str) -> str:
    """A bcrypt htpasswd entry (the only kind the registry accepts), from apache2-utils."""
    htpasswd = find_tool(("htpasswd",), "apache2-utils")
    # -i: the password on stdin, never on a command line other users could read
    done = subprocess.run([str(htpasswd), "-niB", username], input=password, text=True,
                          capture_output=True, check=True)
    return done.stdout.strip() + "\n"


def _shared_libraries(binary: Path) -> list[Path]:
    done = subprocess.run(["ldd", str(binary)], capture_output=True, text=True)
    if done.returncode != 0:  # "not a dynamic executable"
        return []
    return [Path(p) for p in re.findall(r"(/\S+)\s+\(0x", done.stdout)]
