"""The plugin registry: where block types and secret backends come from, and what a broken
plugin does to the rest (nothing).

Plugin files load as modules `core_blocks_plugins.<stem>` and every Block subclass is
remembered by slug for the whole test session, so each test here uses its own file stems and
slugs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import core_blocks.plugin
from core_blocks import Block, Secret
from core_blocks.errors import BlockTypeNotFound, PluginError, SecretBackendError
from core_blocks.registry import get_registry
from core_blocks.store import get_store
from core_blocks.testing import reset_state
from tests.helpers import memory_vault_plugin

REPO = Path(__file__).resolve().parents[2]
CORE_TYPES = ["secret", "string", "json", "local-file-system", "webhook"]
CORE_BACKENDS = ["keyring", "file", "env"]
SDKS = ("boto3", "dbt", "docker", "slack_sdk")


def block_plugin(class_name: str, type_name: str) -> str:
    """The source of a plugin file that adds one block type."""
    return textwrap.dedent(f'''\
        from pydantic import Field

        from core_blocks import Block, hookimpl


        class {class_name}(Block):
            """A block type from a plugin file."""

            _block_type_name = {type_name!r}

            value: str = Field(default="", description="Any text")


        @hookimpl
        def register_block_types():
            return [{class_name}]
        ''')


def write_plugin(folder: Path, stem: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.py"
    path.write_text(source)
    return path


@pytest.fixture
def use_plugin_dirs(monkeypatch):
    """Lists folders in CORE_BLOCKS_PLUGINS_DIRS and returns the registry built from them."""

    def use(*folders: Path):
        monkeypatch.setenv("CORE_BLOCKS_PLUGINS_DIRS", os.pathsep.join(str(f) for f in folders))
        reset_state()
        return get_registry()

    return use


def file_errors(registry) -> dict[str, str]:
    """The errors of plugin files (installed integrations may have their own)."""
    return {name: error for name, error in registry.errors.items() if name.startswith("file:")}


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ), cwd=REPO, timeout=120)


# -- the core's own plugin -----------------------------------------------------------------


def test_core_types_and_backends_come_through_the_core_entry_point():
    registry = get_registry()

    core = registry.plugins["core"]
    assert core.source.startswith("core-blocks ")
    assert core.error is None
    assert core.block_types == CORE_TYPES
    assert core.secret_backends == CORE_BACKENDS
    assert registry.pm.get_plugin("core") is core_blocks.plugin
    for slug in CORE_TYPES:
        assert registry.plugin_of(slug) is core
    assert registry.block_type("secret") is Secret
    for name in CORE_BACKENDS:
        assert registry.secret_backends[name][1] == "core"


# -- plugin folders ------------------------------------------------------------------------


def test_plugin_files_in_several_folders_are_discovered(tmp_path, use_plugin_dirs):
    first = write_plugin(tmp_path / "team", "first_folder_probe",
                         block_plugin("FirstFolderProbe", "First Folder Probe"))
    second = write_plugin(tmp_path / "mine", "second_folder_probe",
                          block_plugin("SecondFolderProbe", "Second Folder Probe"))

    registry = use_plugin_dirs(tmp_path / "team", tmp_path / "no-such-folder", tmp_path / "mine")

    assert registry.block_type("first-folder-probe").__name__ == "FirstFolderProbe"
    assert registry.block_type("second-folder-probe").__name__ == "SecondFolderProbe"
    assert registry.plugins["file:first_folder_probe"].source == str(first)
    assert registry.plugins["file:second_folder_probe"].source == str(second)
    assert registry.plugin_of("first-folder-probe").name == "file:first_folder_probe"
    assert file_errors(registry) == {}
    assert registry.block_type("secret") is Secret  # the core is still there


def test_plugin_folders_default_to_the_home_plugins_folder(block_home, monkeypatch):
    write_plugin(block_home / "plugins", "home_folder_probe",
                 block_plugin("HomeFolderProbe", "Home Folder Probe"))
    monkeypatch.delenv("CORE_BLOCKS_PLUGINS_DIRS")
    reset_state()

    assert get_registry().block_type("home-folder-probe").__name__ == "HomeFolderProbe"


def test_files_starting_with_an_underscore_are_not_imported(tmp_path, use_plugin_dirs):
    folder = tmp_path / "plugins"
    write_plugin(folder, "_shared_helpers", "raise RuntimeError('must never be imported')\n")
    write_plugin(folder, "_private_probe", block_plugin("PrivateProbe", "Private Probe"))
    write_plugin(folder, "public_probe", block_plugin("PublicProbe", "Public Probe"))

    registry = use_plugin_dirs(folder)

    assert file_errors(registry) == {}
    assert [n for n in registry.plugins if n.startswith("file:")] == ["file:public_probe"]
    assert "private-probe" not in registry.block_types
    assert "core_blocks_plugins._shared_helpers" not in sys.modules


@pytest.mark.parametrize("plugins_dirs", [None, ""], ids=["unset", "empty"])
def test_the_current_directory_is_never_searched(tmp_path, monkeypatch, plugins_dirs):
    workdir = tmp_path / "project"
    write_plugin(workdir, "cwd_probe", block_plugin("CwdProbe", "Cwd Probe"))
    write_plugin(workdir / "plugins", "cwd_plugins_probe",
                 block_plugin("CwdPluginsProbe", "Cwd Plugins Probe"))
    monkeypatch.chdir(workdir)
    if plugins_dirs is None:
        monkeypatch.delenv("CORE_BLOCKS_PLUGINS_DIRS")
    else:
        monkeypatch.setenv("CORE_BLOCKS_PLUGINS_DIRS", plugins_dirs)
    reset_state()

    registry = get_registry()

    for slug in ("cwd-probe", "cwd-plugins-probe"):
        with pytest.raises(BlockTypeNotFound):
            registry.block_type(slug)
    assert not [n for n in registry.plugins if n.startswith("file:")]
    assert "core_blocks_plugins.cwd_probe" not in sys.modules


# -- broken plugins ----------------------------------------------------------------------


def test_a_plugin_that_fails_to_import_is_reported_and_the_others_work(tmp_path,
                                                                       use_plugin_dirs):
    folder = tmp_path / "plugins"
    broken = write_plugin(folder, "broken_import", "import no_such_sdk_for_core_blocks\n")
    write_plugin(folder, "healthy_neighbour", block_plugin("HealthyNeighbour", "Healthy Neighbour"))

    registry = use_plugin_dirs(folder)

    assert file_errors(registry) == {
        "file:broken_import": (
            f"Plugin file {broken} failed to load: ModuleNotFoundError: No module named "
            "'no_such_sdk_for_core_blocks'. Fix or remove the file."
        )
    }
    assert registry.block_type("healthy-neighbour").__name__ == "HealthyNeighbour"
    assert registry.block_type("secret") is Secret
    with pytest.raises(BlockTypeNotFound, match="Plugins that failed to load: file:broken_import"):
        registry.block_type("no-such-type-anywhere")


def test_a_plugin_raising_in_register_block_types_is_reported(tmp_path, use_plugin_dirs):
    folder = tmp_path / "plugins"
    raising = write_plugin(folder, "raising_register", textwrap.dedent("""\
        from core_blocks import hookimpl


        @hookimpl
        def register_block_types():
            raise ValueError("cannot list my types")
        """))
    write_plugin(folder, "calm_register", block_plugin("CalmRegister", "Calm Register"))

    registry = use_plugin_dirs(folder)

    assert file_errors(registry) == {
        "file:raising_register": (
            f"Plugin 'file:raising_register' ({raising}) failed in register_block_types: "
            "ValueError: cannot list my types"
        )
    }
    assert registry.block_type("calm-register").__name__ == "CalmRegister"
    assert registry.block_types["secret"][0] is Secret


def test_a_misspelt_hook_is_that_plugins_error(tmp_path, use_plugin_dirs):
    folder = tmp_path / "plugins"
    write_plugin(folder, "misspelt_hook", textwrap.dedent("""\
        from core_blocks import hookimpl


        @hookimpl
        def register_blok_types():
            return []
        """))
    write_plugin(folder, "spelt_right", block_plugin("SpeltRight", "Spelt Right"))

    registry = use_plugin_dirs(folder)

    assert list(file_errors(registry)) == ["file:misspelt_hook"]
    message = registry.errors["file:misspelt_hook"]
    assert message.startswith("Plugin 'file:misspelt_hook' is invalid:")
    assert "register_blok_types" in message
    assert registry.pm.get_plugin("file:misspelt_hook") is None
    assert registry.block_type("spelt-right").__name__ == "SpeltRight"
    assert registry.block_type("secret") is Secret


# -- slugs ---------------------------------------------------------------------------------


@pytest.fixture
def claimed_twice(tmp_path, use_plugin_dirs):
    """Two plugin files whose block types share the slug 'claimed-twice'."""
    folder = tmp_path / "plugins"
    write_plugin(folder, "claim_one", block_plugin("ClaimedTwiceOne", "Claimed Twice"))
    write_plugin(folder, "claim_two", block_plugin("ClaimedTwiceTwo", "Claimed Twice"))
    return use_plugin_dirs(folder)


def test_two_plugins_claiming_one_slug_is_an_error_naming_both(claimed_twice):
    with pytest.raises(PluginError) as caught:
        claimed_twice.block_type("claimed-twice")

    message = str(caught.value)
    assert message.startswith("Block type 'claimed-twice' is claimed by plugins ")
    assert message.endswith(". Uninstall or rename one of them.")
    assert "'file:claim_one'" in message and "'file:claim_two'" in message
    assert claimed_twice.block_type("secret") is Secret  # other slugs are unaffected


def test_loading_a_block_of_a_slug_claimed_twice_names_both_plugins(claimed_twice):
    one = sys.modules["core_blocks_plugins.claim_one"].ClaimedTwiceOne
    one(value="x").save("ambiguous")

    with pytest.raises(PluginError, match="'file:claim_one' and 'file:claim_two'"):
        Block.load("claimed-twice/ambiguous")


def test_a_plugin_claiming_a_core_slug_does_not_take_over_its_blocks(tmp_path):
    """A plugin type named 'Secret' with a plain field must not receive a Secret's value."""
    write_plugin(tmp_path / "plugins", "fake_secret", textwrap.dedent("""\
        from pydantic import Field

        from core_blocks import Block, hookimpl


        class FakeSecret(Block):
            _block_type_name = "Secret"

            value: str = Field(description="Plain text")


        @hookimpl
        def register_block_types():
            return [FakeSecret]
        """))
    # In a child process: the fake class would shadow Secret for the rest of this session.
    probe = textwrap.dedent(f"""\
        import os
        os.environ["CORE_BLOCKS_PLUGINS_DIRS"] = {str(tmp_path / "plugins")!r}
        from core_blocks import Block, Secret
        from core_blocks.errors import PluginError

        Secret(value="hunter2-canary").save("pw")
        try:
            loaded = Block.load("secret/pw")
        except PluginError as exc:
            print("PluginError:", exc)
        else:
            print("loaded", type(loaded).__name__, repr(loaded))
        """)
    out = _run(probe)

    assert out.returncode == 0, out.stderr
    assert "hunter2-canary" not in out.stdout
    assert out.stdout.startswith("PluginError: Block type 'secret' is claimed by plugins "), \
        out.stdout
    assert "'core'" in out.stdout and "'file:fake_secret'" in out.stdout


def test_plugins_are_consulted_in_discovery_order(tmp_path, use_plugin_dirs):
    """Entry points (the core first), then plugin files by folder and name."""
    folder = tmp_path / "plugins"
    write_plugin(folder, "order_a", block_plugin("OrderA", "Order A"))
    write_plugin(folder, "order_b", block_plugin("OrderB", "Order B"))
    write_plugin(folder, "order_c", block_plugin("OrderC", "Order C Twice"))
    write_plugin(folder, "order_d", block_plugin("OrderD", "Order C Twice"))

    registry = use_plugin_dirs(folder)

    ours = [s for s in registry.block_types if s in CORE_TYPES or s.startswith("order-")]
    assert ours == CORE_TYPES + ["order-a", "order-b", "order-c-twice"]
    assert registry.conflicts == {"order-c-twice": ["file:order_c", "file:order_d"]}


@pytest.mark.parametrize("typed, suggested", [
    ("secrte", "secret"),
    ("webhok", "webhook"),
    ("local-filesystem", "local-file-system"),
])
def test_an_unknown_slug_suggests_close_matches(typed, suggested):
    with pytest.raises(BlockTypeNotFound) as caught:
        get_registry().block_type(typed)

    message = str(caught.value)
    assert message.startswith(f"Unknown block type {typed!r}. Did you mean: {suggested}")
    assert "? See all types with: blocks types." in message


def test_an_unknown_slug_without_close_matches():
    with pytest.raises(BlockTypeNotFound) as caught:
        get_registry().block_type("zzzz-qqqq")

    assert str(caught.value) == "Unknown block type 'zzzz-qqqq'. See all types with: blocks types."


# -- secret backends from plugins ---------------------------------------------------------




@pytest.fixture
def memory_vault(tmp_path, use_plugin_dirs, monkeypatch) -> dict:
    """The 'memory-vault' backend from a plugin file, selected with CORE_BLOCKS_SECRET_BACKEND;
    returns its dict of stored secrets."""
    write_plugin(tmp_path / "plugins", "memory_vault", memory_vault_plugin("memory-vault"))
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "memory-vault")
    registry = use_plugin_dirs(tmp_path / "plugins")  # imports the file afresh
    assert file_errors(registry) == {}
    return sys.modules["core_blocks_plugins.memory_vault"].VAULT


def test_a_plugin_secret_backend_is_selected_by_name(memory_vault, block_home, canary):
    Secret(value=canary).save("token")

    assert [v["value"] for v in memory_vault.values()] == [canary]
    assert get_store().get_document("secret", "token").secret_backend == "memory-vault"
    assert not (block_home / "secrets.enc").exists()
    assert Secret.load("token").get() == canary

    Secret(value="second").save("token", overwrite=True)  # the old key is removed
    assert [v["value"] for v in memory_vault.values()] == ["second"]
    assert Secret.load("token").get() == "second"

    Secret.delete("token")
    assert memory_vault == {}


@pytest.mark.parametrize("with_plugin", [False, True], ids=["core", "core+plugin"])
def test_an_unknown_secret_backend_lists_the_available_ones(request, monkeypatch, with_plugin):
    expected = {"auto", "env", "file", "keyring"}
    if with_plugin:
        request.getfixturevalue("memory_vault")
        expected.add("memory-vault")
    monkeypatch.setenv("CORE_BLOCKS_SECRET_BACKEND", "no-such-vault")
    reset_state()

    with pytest.raises(SecretBackendError) as caught:
        Secret(value="x").save("token")

    head = "Unknown secret backend 'no-such-vault' (CORE_BLOCKS_SECRET_BACKEND). Available: "
    message = str(caught.value)
    assert message.startswith(head) and message.endswith(".")
    available = message[len(head):-1].split(", ")
    assert available[0] == "auto"
    assert expected <= set(available)
    assert Secret.list() == []  # nothing half-saved


# -- discovery stays light ----------------------------------------------------------------


def test_discovery_imports_no_sdk():
    probe = textwrap.dedent(f"""\
        import os, sys
        os.environ["CORE_BLOCKS_PLUGINS_DIRS"] = {str(REPO / "plugins")!r}
        import core_blocks.cli.app
        from core_blocks.registry import get_registry

        registry = get_registry()
        for slug in list(registry.block_types):
            registry.block_type(slug).schema()
        print("types:", *sorted(registry.block_types), file=sys.stderr)
        print("errors:", registry.errors, file=sys.stderr)
        print(*sorted({set(SDKS)!r} & sys.modules.keys()))
        """)
    out = _run(probe)

    assert out.returncode == 0, out.stderr
    assert "secret" in out.stderr.split(), out.stderr  # the types were really loaded
    assert out.stdout.strip() == "", f"discovery imported {out.stdout.strip()}\n{out.stderr}"


def test_blocks_types_and_ls_with_saved_integration_blocks_import_no_sdk(tmp_path):
    probe = textwrap.dedent(f"""\
        import os, sys
        os.environ["CORE_BLOCKS_HOME"] = {str(tmp_path / "home")!r}
        os.environ["CORE_BLOCKS_SECRET_BACKEND"] = "file"
        import subprocess
        done = subprocess.run(["blocks", "create", "docker-host/box", "--set",
                               "base_url=tcp://127.0.0.1:1"], capture_output=True, text=True)
        print(done.stderr, file=sys.stderr)
        from core_blocks.cli.app import main
        for args in (["types"], ["ls"]):
            print("exit", main(args), file=sys.stderr)
        print("sdks:", *sorted({set(SDKS)!r} & sys.modules.keys()), file=sys.stderr)
        """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env={**os.environ, "PATH": f"{Path(sys.executable).parent}:"
                                                    f"{os.environ.get('PATH', '')}"},
                         cwd=REPO, timeout=120)

    assert out.returncode == 0, out.stderr
    assert out.stderr.count("exit 0") == 2, out.stderr
    assert "docker-registry-credentials" in out.stdout and "docker-host/box" in out.stdout
    assert out.stderr.splitlines()[-1] == "sdks:", f"blocks types/ls imported {out.stderr}"


def test_cli_start_imports_no_pydantic():
    out = _run("import sys, core_blocks.cli.app\n"
               "print(*sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'))")

    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", "`import core_blocks.cli.app` imports pydantic"
