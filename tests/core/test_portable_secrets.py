"""Secret backends register one by one: a platform without `fcntl`, or one backend that fails
to import, loses only what it must, and says so by name.

Each case runs in a subprocess whose `sitecustomize` blocks a module before anything else is
imported (`sys.modules[name] = None` makes `import name` raise ImportError).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from core_blocks import Secret
from core_blocks.registry import get_registry
from tests.helpers import BLOCKS

BACKENDS = "from core_blocks.registry import get_registry\n" \
           "print(json.dumps(sorted(get_registry().secret_backends)))\n"


def _blocked_env(tmp_path: Path, *modules: str, **extra: str) -> dict[str, str]:
    """This process's environment plus a sitecustomize that makes `modules` unimportable."""
    shim = tmp_path / "shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(
        "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in modules))
    path = os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **extra}


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True,
                          text=True, timeout=120, env=env)


def test_without_fcntl_every_backend_remains_and_the_file_backend_works(tmp_path):
    env = _blocked_env(tmp_path, "fcntl")
    code = (
        "try:\n    import fcntl  # noqa: F401\nexcept ImportError:\n    pass\n"
        "else:\n    raise SystemExit('the shim did not block fcntl')\n"
        + BACKENDS +
        "from core_blocks import Secret\n"
        "Secret(value='no-fcntl-here').save('portable')\n"
        "print(Secret.load('portable').get())\n"
        "print(sorted(get_registry().errors))\n"
    )

    result = _python(code, env)

    assert result.returncode == 0, result.stderr
    backends, value, errors = result.stdout.splitlines()
    assert set(json.loads(backends)) >= {"env", "file", "keyring"}
    assert value == "no-fcntl-here"
    assert errors == "[]"


def test_one_backend_failing_to_import_removes_only_that_backend(tmp_path):
    env = _blocked_env(tmp_path, "core_blocks.secrets.keyring_backend",
                       CORE_BLOCKS_SECRET_BACKEND="auto")

    listed = _python(BACKENDS, env)
    doctor = subprocess.run([BLOCKS, "doctor", "--json"], capture_output=True, text=True,
                            timeout=120, env=env, stdin=subprocess.DEVNULL)
    chosen = subprocess.run([BLOCKS, "create", "secret/x", "--set", "value=v"],
                            capture_output=True, text=True, timeout=120,
                            env={**env, "CORE_BLOCKS_SECRET_BACKEND": "keyring"},
                            stdin=subprocess.DEVNULL)

    assert listed.returncode == 0, listed.stderr
    backends = set(json.loads(listed.stdout))
    assert "keyring" not in backends and {"env", "file"} <= backends
    assert doctor.returncode == 1
    findings = {f["name"]: f for f in json.loads(doctor.stdout)["findings"]}
    failed = findings["core:keyring"]
    assert not failed["ok"]
    assert failed["detail"].startswith(
        "Secret backend 'keyring' of plugin 'core' (core-blocks ")
    assert "failed to load: ModuleNotFoundError" in failed["detail"]
    assert findings["file"]["ok"] and "[selected by auto]" in findings["file"]["detail"]
    assert findings["env"]["ok"] and findings["core"]["ok"]
    assert chosen.returncode == 1
    [line] = chosen.stderr.strip().splitlines()
    assert "Secret backend 'keyring' of plugin 'core'" in line and "failed to load" in line


def test_a_backend_named_by_import_path_is_checked(tmp_path, monkeypatch):
    # A plugin whose 'name = module:Class' names the class wrongly gets its own error.
    from tests.helpers import plugin_folder

    plugin_folder(tmp_path, monkeypatch, "twin.py", (
        "from core_blocks import hookimpl\n"
        "@hookimpl\n"
        "def register_secret_backends():\n"
        "    return ['vault = core_blocks.secrets.env_backend:EnvSecretBackend',\n"
        "            'broken-spec']\n"))
    registry = get_registry()

    assert "vault" not in registry.secret_backends
    assert "is named 'env', not 'vault'" in registry.errors["file:twin:vault"]
    assert "is not 'name = module:Class'" in registry.errors["file:twin:broken-spec"]
    assert {"env", "file", "keyring"} <= set(registry.secret_backends)
    Secret(value="still works").save("s")  # the core's backends are untouched
    assert Secret.load("s").get() == "still works"
