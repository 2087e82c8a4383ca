"""PrefectDbtOrchestrator keeps profile secrets to dbt: on real dbt-duckdb, a password from a
Secret block, a DbtCliProfile's target password and an environment variable, all referenced
from profiles.yml, reach none of the run history, logs, artifacts, run_results.json, node
cache, execution state, plan, errors or pickled payloads, and no resolved profiles.yml is
left behind; a build whose connection error quotes a secret masks it everywhere it goes.
Bad input fails at once with one line naming the fix."""

from __future__ import annotations

import json
import logging
import os
import pickle
import secrets
import stat
import tempfile
import traceback
from concurrent.futures import Future
from pathlib import Path
from types import SimpleNamespace

import pytest

from core_blocks import Secret, flow
from core_blocks.runtime import history
from core_blocks.store import get_store
from core_blocks.testing.isolation import isolated_home
from prefect_dbt import DbtCliProfile, PostgresTargetConfigs, PrefectDbtSettings
from prefect_dbt.core._executor import DbtCoreExecutor
from prefect_dbt.core._orchestrator import (
    CacheConfig,
    DbtBuildFailed,
    ExecutionMode,
    PrefectDbtOrchestrator,
)
from tests.dbt.project import write_project

# dbt-duckdb ignores `password`, `token` and `user`: the secrets reach dbt and go no further.
PROFILE = """shop:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "%s"
      threads: 2
      password: "{{ prefect.blocks.secret.warehouse-password.value }}"
      token: "{{ prefect.blocks.dbt-cli-profile.warehouse.target_configs.password }}"
      user: "{{ env_var('SHOP_WAREHOUSE_TOKEN') }}"
"""
# DuckDB cannot open a file in a folder that is not there, and says which file: dbt's error
# for every node quotes the Secret block's value and a DBT_ENV_SECRET_ variable's.
UNREACHABLE = (
    "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      threads: 1\n"
    '      path: "/nonexistent-{{ prefect.blocks.secret.warehouse-password }}-'
    "{{ env_var('DBT_ENV_SECRET_SHOP') }}/shop.duckdb\"\n")
# The schema's name holds a secret: dbt writes it into the manifest (its own artifact) and
# into each node's relation, which our node runs, assets and plan then carry.
SECRET_SCHEMA = """shop:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "%s"
      threads: 2
      schema: "main_{{ prefect.blocks.secret.warehouse-schema }}"
"""
ENV_NAME = "SHOP_WAREHOUSE_TOKEN"
DBT_SECRET_NAME = "DBT_ENV_SECRET_SHOP"  # dbt's own prefix for a secret environment variable


class ProcessPoolTaskRunner:
    """Stands in for Prefect's class of this name: PER_NODE must never start it."""

    started: list[str] = []

    def __init__(self, max_workers: int | None = None):
        ProcessPoolTaskRunner.started.append(type(self).__name__)


class PicklingPool(ProcessPoolTaskRunner):
    """A process pool as Prefect's code drives one (a subclass under another name is used
    as given): runs each node task here, but pickles what would cross to a worker process
    (the task and its parameters) and back (its result or error)."""

    payloads: list[bytes] = []

    def submit(self, task, parameters, wait_for=None):
        type(self).payloads.append(pickle.dumps(parameters))
        future: Future = Future()
        try:
            value = task.fn(**parameters)
        except Exception as exc:
            type(self).payloads.append(pickle.dumps(exc))
            future.set_exception(exc)
        else:
            type(self).payloads.append(pickle.dumps(value))
            future.set_result(value)
        return future


class WatchingExecutor(DbtCoreExecutor):
    """dbt's own executor, noting the resolved profiles folder's modes while dbt runs and
    every ExecutionResult it hands back."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.modes: set[tuple[int, int]] = set()
        self.outcomes: list = []

    def _watch(self, outcome):
        folder = Path(self._profiles_dir_override or "")
        if (folder / "profiles.yml").is_file():
            self.modes.add((stat.S_IMODE(folder.stat().st_mode),
                            stat.S_IMODE((folder / "profiles.yml").stat().st_mode)))
        self.outcomes.append(outcome)
        return outcome

    def execute_node(self, *args, **kwargs):
        return self._watch(super().execute_node(*args, **kwargs))

    def execute_wave(self, *args, **kwargs):
        return self._watch(super().execute_wave(*args, **kwargs))


class _Everything(logging.Handler):
    """Every log record of the process, formatted with its traceback."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


def _settings(project: Path, folder: Path, text: str) -> PrefectDbtSettings:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profiles.yml").write_text(text)
    return PrefectDbtSettings(project_dir=project, profiles_dir=folder)


def _orchestrator(settings, **options) -> tuple[PrefectDbtOrchestrator, WatchingExecutor]:
    executor = WatchingExecutor(settings)
    return PrefectDbtOrchestrator(settings=settings, executor=executor, **options), executor


def _file_texts(folder: Path) -> dict[str, bytes]:
    """Each file's path (as text) and bytes under folder."""
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _holding(secret_values, texts) -> list[str]:
    """The texts (or bytes) that quote any of secret_values."""
    found = []
    for text in texts:
        data = text if isinstance(text, bytes) else str(text).encode()
        if any(value.encode() in data for value in secret_values):
            found.append(data[:200].decode(errors="replace"))
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Every build of the module in one block home, with a private temp folder (where
    resolved profiles would be left) and every log record kept:

    - PER_WAVE in a flow, writing run_results.json;
    - PER_NODE in a flow, cached, twice, with Prefect's ProcessPoolTaskRunner named;
    - a PER_WAVE and a PER_NODE build (each in a flow) whose DuckDB path holds the secret,
      so that dbt's error quotes it, and a PER_NODE one on a pickling process pool;
    - a build interrupted (KeyboardInterrupt) by a run_start hook.
    """
    root = tmp_path_factory.mktemp("secrets")
    values = SimpleNamespace(password=f"canary-{secrets.token_hex(12)}",
                             profile=f"profile-{secrets.token_hex(12)}",
                             env=f"envvar-{secrets.token_hex(12)}")
    dbt_secret = f"dbtsecret-{secrets.token_hex(12)}"
    project = write_project(root / "shop")
    private_tmp = root / "tmp"
    private_tmp.mkdir()
    handler = _Everything()
    root_logger = logging.getLogger()
    saved_level, saved_tempdir = root_logger.level, tempfile.tempdir
    saved_env = {name: os.environ.get(name) for name in (ENV_NAME, DBT_SECRET_NAME)}
    os.environ.update({ENV_NAME: values.env, DBT_SECRET_NAME: dbt_secret})
    tempfile.tempdir = str(private_tmp)
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.DEBUG)
    try:
        with isolated_home(root / "home") as home:
            Secret(value=values.password).save("warehouse-password")
            DbtCliProfile(name="shop", target="ci", target_configs=PostgresTargetConfigs(
                host="localhost", user="u", password=values.profile, dbname="d",
                schema="s")).save("warehouse")
            found = _run_builds(root, project, values)
            found.update(_run_secret_schema_build(root, values.password))
            history.flush()
            runs = [history.get_run(get_store(), r["id"])
                    for r in history.list_runs(get_store(), limit=200)]
            stored = _file_texts(home)
    finally:
        root_logger.removeHandler(handler)
        root_logger.setLevel(saved_level)
        tempfile.tempdir = saved_tempdir
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return SimpleNamespace(**found, values=values, secrets=vars(values).values(),
                           dbt_secret=dbt_secret,
                           root=root, project=project, private_tmp=private_tmp, runs=runs,
                           stored=stored, logs=handler.lines)


def _run_builds(root: Path, project: Path, values) -> dict:
    found: dict = {}
    settings = _settings(project, root / "profiles", PROFILE % (root / "shop.duckdb"))

    wave, found["wave_executor"] = _orchestrator(settings, write_run_results=True)
    found["wave_results"] = flow(name="wave-build")(wave.run_build)()
    found["run_results"] = (project / "target" / "run_results.json").read_bytes()

    cache = CacheConfig(result_storage=root / "cache", key_storage=root / "keys")
    node, found["node_executor"] = _orchestrator(
        settings, execution_mode=ExecutionMode.PER_NODE, cache=cache,
        task_runner_type=ProcessPoolTaskRunner)
    found["node_results"] = flow(name="node-build")(node.run_build)()
    found["cached_results"] = flow(name="node-build-again")(node.run_build)()
    found["plan"] = node.plan()

    unreachable = _settings(project, root / "unreachable", UNREACHABLE)
    found["failures"] = {}
    for name, options in [
            ("wave", {"write_run_results": True}),
            ("node", {"execution_mode": ExecutionMode.PER_NODE}),
            ("pool", {"execution_mode": ExecutionMode.PER_NODE,
                      "task_runner_type": PicklingPool, "create_summary_artifact": False})]:
        orchestrator, executor = _orchestrator(unreachable, **options)
        with pytest.raises(DbtBuildFailed) as failed:
            flow(name=f"unreachable-{name}")(orchestrator.run_build)()
        found["failures"][name] = SimpleNamespace(error=failed.value, executor=executor)
    found["failed_run_results"] = (project / "target" / "run_results.json").read_bytes()

    interrupted, _ = _orchestrator(settings)

    @interrupted.on_run_start
    def stop(context):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted.run_build()
    return found


def _run_secret_schema_build(root: Path, schema_secret: str) -> dict:
    """PER_NODE in a flow with compiled code in the assets, on a project whose schema's
    name holds the Secret block's value; its plan first."""
    Secret(value=schema_secret).save("warehouse-schema")
    project = write_project(root / "schema-shop")
    settings = _settings(project, root / "schema-profiles",
                         SECRET_SCHEMA % (root / "schema-shop.duckdb"))
    orchestrator = PrefectDbtOrchestrator(settings=settings,
                                          execution_mode=ExecutionMode.PER_NODE,
                                          include_compiled_code=True, write_run_results=True)
    plan = orchestrator.plan()
    results = flow(name="schema-build")(orchestrator.run_build)()
    return {"schema_plan": plan, "schema_results": results,
            "schema_run_results": (project / "target" / "run_results.json").read_bytes()}


# -- the builds ran as they should: what the checks below rely on ----------------------------

def test_the_builds_succeed_then_hit_the_cache_and_the_unreachable_ones_fail(world):
    assert {r["status"] for r in world.wave_results.values()} == {"success"}
    assert {r["status"] for r in world.node_results.values()} == {"success"}
    assert "cached" in {r["status"] for r in world.cached_results.values()}
    assert {r["status"] for r in world.schema_results.values()} == {"success"}
    for failure in world.failures.values():
        assert failure.error.failed_node_ids == ["seed.shop.raw_orders"]
        message = failure.error.results["seed.shop.raw_orders"]["error"]["message"]
        assert "/nonexistent-**********-" in message  # dbt quoted it, masked


# -- where a secret must never be ------------------------------------------------------------

def test_no_secret_in_the_run_history_its_parameters_states_errors_or_artifacts(world):
    assert len(world.runs) > 10 and any(r["artifacts"] for r in world.runs)
    assert any(r["state_name"] == "Failed" for r in world.runs)
    assert not _holding(world.secrets, [json.dumps(r, default=str) for r in world.runs])
    assert not _holding(world.secrets, world.stored.values())  # the store, logs included


def test_no_secret_in_any_log_record_of_the_process(world):
    assert any("Cannot open" in line or "IO Error" in line for line in world.logs)
    assert not _holding(world.secrets, world.logs)


def test_no_secret_in_run_results_json_written_by_a_good_and_a_failed_build(world):
    assert not _holding(world.secrets, [world.run_results, world.failed_run_results])
    failed = json.loads(world.failed_run_results)
    assert any("**********" in r["message"] for r in failed["results"])


def test_no_secret_in_the_node_cache_its_keys_or_the_execution_state(world):
    cache_files = {**_file_texts(world.root / "cache"), **_file_texts(world.root / "keys")}
    assert any(name.endswith(".execution_state.json") for name in cache_files)
    assert len(cache_files) > 2
    assert not _holding(world.secrets, [*cache_files, *cache_files.values()])


def test_no_secret_in_the_plan_the_results_or_dbt_build_failed(world):
    plan = world.plan
    assert "cache: hit" in str(plan)
    texts = [str(plan), repr(plan), str(world.schema_plan), json.dumps(world.wave_results),
             json.dumps(world.schema_results), world.schema_run_results,
             json.dumps(world.node_results), json.dumps(world.cached_results)]
    for failure in world.failures.values():
        error = failure.error
        texts += [str(error), repr(error), json.dumps(error.results),
                  "".join(traceback.format_exception(error))]
    assert not _holding(world.secrets, texts)


def test_no_secret_in_the_project_s_target_folder(world):
    target = _file_texts(world.project / "target")
    assert any(name.endswith("manifest.json") for name in target)
    assert not _holding(world.secrets, target.values())


def test_no_secret_in_dbt_s_own_log_file(world):
    assert not _holding(world.secrets, _file_texts(world.project / "logs").values())


def test_no_resolved_profiles_yml_is_left_after_success_failure_or_interruption(world):
    assert list(world.private_tmp.iterdir()) == []


def test_resolved_profiles_are_readable_by_their_owner_only_while_dbt_runs(world):
    modes = world.wave_executor.modes | world.node_executor.modes
    assert modes == {(0o700, 0o600)}


def test_prefect_s_process_pool_runner_is_never_started_and_nodes_run_in_threads(world):
    assert ProcessPoolTaskRunner.started == ["PicklingPool"]  # used as given
    names = {r["name"].rsplit("-", 1)[0] for r in world.runs if r.get("kind") == "task"}
    assert {"seed raw_orders", "model orders"} <= names


def test_what_a_process_pool_pickles_holds_no_secret_except_dbt_s_own_error(world):
    payloads = PicklingPool.payloads
    assert len(payloads) == 2  # the seed's parameters, then its error; the rest skipped
    assert not _holding(world.secrets, payloads[:1])


def test_the_plan_s_repr_holds_no_secret_of_the_relations(world):
    assert "main_" in str(world.schema_plan.waves[0].nodes[0].relation_name)
    assert not _holding(world.secrets, [repr(world.schema_plan)])


def test_a_failed_node_s_pickled_error_holds_no_secret(world):
    assert not _holding(world.secrets, PicklingPool.payloads[1:])


def test_execution_result_reprs_hold_no_secret(world):
    outcomes = [o for f in world.failures.values() for o in f.executor.outcomes]
    assert outcomes and not _holding(world.secrets, map(repr, outcomes))


# -- bad input: one line naming the fix, before anything runs --------------------------------

def _one_line_error(call, kind=ValueError) -> str:
    with pytest.raises(kind) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message, message
    return message


def test_bad_input_fails_at_once_with_one_line_and_leaves_nothing(world, tmp_path):
    settings = PrefectDbtSettings(project_dir=world.project,
                                  profiles_dir=world.root / "profiles")
    before = (world.project / "target" / "run_results.json").read_bytes()

    assert "Must be one of: per_node, per_wave" in _one_line_error(
        lambda: PrefectDbtOrchestrator(settings=settings, execution_mode="per-node"))
    assert "set settings.profiles_dir instead" in _one_line_error(
        lambda: PrefectDbtOrchestrator(settings=settings, write_run_results=True).run_build(
            extra_cli_args=["--profiles-dir", str(tmp_path)]))
    missing = PrefectDbtSettings(project_dir=tmp_path / "no-project",
                                 profiles_dir=world.root / "profiles")
    assert "DBT_PROJECT_DIR" in _one_line_error(
        lambda: PrefectDbtOrchestrator(settings=missing).run_build())

    assert (world.project / "target" / "run_results.json").read_bytes() == before


def test_a_profile_naming_a_missing_block_fails_with_one_line_and_leaves_nothing(world):
    text = PROFILE.replace("warehouse-password", "warehouse-pasword") % (world.root / "x")
    settings = _settings(world.project, world.root / "misspelt", text)
    before = (world.project / "target" / "run_results.json").read_bytes()
    saved, tempfile.tempdir = tempfile.tempdir, str(world.private_tmp)
    try:
        with isolated_home(world.root / "home"):
            message = _one_line_error(lambda: PrefectDbtOrchestrator(
                settings=settings, write_run_results=True).run_build(), Exception)
    finally:
        tempfile.tempdir = saved
    assert "warehouse-pasword" in message and "blocks create secret/" in message
    assert not _holding(world.secrets, [message])
    assert (world.project / "target" / "run_results.json").read_bytes() == before
    assert list(world.private_tmp.iterdir()) == []


def test_a_bad_concurrency_is_refused_up_front(world):
    settings = PrefectDbtSettings(project_dir=world.project,
                                  profiles_dir=world.root / "profiles")
    for concurrency in ([4], 0, True):
        _one_line_error(lambda c=concurrency: PrefectDbtOrchestrator(
            settings=settings, execution_mode=ExecutionMode.PER_NODE, concurrency=c),
            (ValueError, TypeError))
    orchestrator = PrefectDbtOrchestrator(settings=settings, concurrency="4",
                                          execution_mode=ExecutionMode.PER_NODE)
    before = _file_texts(world.project)
    _one_line_error(orchestrator.run_build, ValueError)  # before any node runs
    assert _file_texts(world.project) == before


def test_a_dbt_env_secret_quoted_by_dbt_is_masked_in_results_and_history(world):
    texts = [json.dumps(f.error.results) for f in world.failures.values()]
    texts += [json.dumps(r, default=str) for r in world.runs]
    assert not _holding([world.dbt_secret], texts)


def test_a_key_of_a_target_config_s_secret_extras_resolves_into_profiles(tmp_path):
    from prefect_dbt import DuckDbTargetConfigs

    token = f"token-{secrets.token_hex(8)}"
    with isolated_home(tmp_path / "home"):
        DuckDbTargetConfigs(path="x.duckdb", secret_extras={"token": token}).save("duck")
        settings = _settings(tmp_path, tmp_path / "profiles", (
            "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
            "      token: \"{{ prefect.blocks.dbt-cli-duckdb-target-configs.duck"
            ".secret_extras.token }}\"\n"))
        with settings.resolve_profiles_yml() as folder:
            assert token in (Path(folder) / "profiles.yml").read_text()
