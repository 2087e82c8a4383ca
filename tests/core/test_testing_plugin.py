"""The pytest plugin users get with core-blocks: `block_home` and `canary` keep their tests off
their real blocks. A user's test file runs in an inner pytest session (pytester), with a
"real" CORE_BLOCKS_HOME set around it that must stay empty.
"""

import os

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = '''
import os
from pathlib import Path

import core_blocks.testing.plugin
from core_blocks import JSON, Secret

REAL_HOME = Path({real_home!r})


def test_fixtures_come_from_the_installed_plugin(request):
    assert request.config.pluginmanager.get_plugin("core_blocks") is core_blocks.testing.plugin


def test_saves_land_in_the_temp_home(block_home, canary):
    assert Path(os.environ["CORE_BLOCKS_HOME"]) == block_home != REAL_HOME

    Secret(value=canary).save("warehouse-token")
    JSON(value={{"tables": ["orders"]}}).save("settings")

    assert (block_home / "blocks.db").is_file()
    for path in block_home.glob("blocks.db*"):
        assert canary.encode() not in path.read_bytes()
    assert Secret.load("warehouse-token").get() == canary
    assert sorted(Secret.list() + JSON.list()) == ["settings", "warehouse-token"]


def test_each_test_starts_with_an_empty_store(block_home):
    assert Secret.list() == []
    assert JSON.list() == []


def test_canary_is_a_fresh_unique_value(canary):
    assert canary.startswith("canary-") and len(canary) > 20
'''


@pytest.fixture
def real_home(tmp_path_factory, monkeypatch):
    """A CORE_BLOCKS_HOME standing in for the user's real one (~/.core_blocks)."""
    home = tmp_path_factory.mktemp("real_core_blocks_home")
    monkeypatch.setenv("CORE_BLOCKS_HOME", str(home))
    monkeypatch.delenv("CORE_BLOCKS_PLUGINS_DIRS")
    return home


def test_user_tests_save_into_a_temp_home_not_the_real_one(pytester, real_home):
    pytester.makepyfile(test_user_blocks=USER_TESTS.format(real_home=str(real_home)))

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=4)
    assert list(real_home.iterdir()) == []
    assert os.environ["CORE_BLOCKS_HOME"] == str(real_home)  # given back afterwards
    assert "CORE_BLOCKS_PLUGINS_DIRS" not in os.environ


def test_the_plugin_works_in_a_fresh_interpreter(pytester, real_home):
    pytester.makepyfile(test_user_blocks=USER_TESTS.format(real_home=str(real_home)))

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=4)
    assert list(real_home.iterdir()) == []


# -- the `core_blocks_isolate` ini option ------------------------------------------------

FORGETFUL_TESTS = '''
import os
from pathlib import Path

from core_blocks import Secret, String


def test_saves_without_block_home_land_in_a_temp_home():
    home = Path(os.environ["CORE_BLOCKS_HOME"])
    assert home != Path.home() / ".core_blocks"
    assert os.environ["CORE_BLOCKS_SECRET_BACKEND"] == "file"

    Secret(value="s3cr3t").save("token")
    String(value="eu").save("region")

    assert (home / "blocks.db").is_file()


def test_each_test_starts_with_an_empty_store():
    assert Secret.list() == [] and String.list() == []


def test_block_home_is_that_same_home(block_home):
    assert os.environ["CORE_BLOCKS_HOME"] == str(block_home)
'''


@pytest.fixture
def user_shell(pytester, monkeypatch):
    """A user's environment: no CORE_BLOCKS_* variables, HOME the pytester folder, no keyring
    (so the default `auto` backend would pick the file under HOME)."""
    for name in [n for n in os.environ if n.startswith("CORE_BLOCKS_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    return pytester.path  # pytester sets HOME to it


def test_isolate_option_keeps_every_test_off_the_real_home(pytester, user_shell):
    pytester.makeini("[pytest]\ncore_blocks_isolate = true\n")
    pytester.makepyfile(test_forgetful=FORGETFUL_TESTS)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=3)
    assert not (user_shell / ".core_blocks").exists()


def test_without_the_option_a_forgetful_test_writes_to_the_real_home(pytester, user_shell):
    """Why the option exists: the default home is ~/.core_blocks."""
    pytester.makepyfile(test_forgetful="from core_blocks import String\n\n"
                                       "def test_save():\n    String(value='eu').save('region')\n")

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    assert (user_shell / ".core_blocks" / "blocks.db").is_file()


def test_isolate_option_is_listed_in_pytest_help(pytester):
    result = pytester.runpytest_subprocess("--help")

    result.stdout.fnmatch_lines(["*core_blocks_isolate*"])
