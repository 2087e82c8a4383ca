"""PrefectDbtRunner and PrefectDbtSettings on real dbt-duckdb: one run per node in the run
history, failures, and profiles.yml referring to saved blocks."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from core_blocks import JSON, Secret, String, flow
from core_blocks.runtime import history
from core_blocks.store import get_store
from prefect_dbt import DbtConfigError, DbtFailure, PrefectDbtRunner, PrefectDbtSettings

PROFILE = """shop:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{{ prefect.blocks.string.duck-path.value }}"
      threads: "{{ prefect.blocks.json.threads.value }}"
      schema: "main_{{ prefect.blocks.secret.agent.value }}"
"""


@pytest.fixture
def settings(shop_project, tmp_path, block_home):
    String(value=str(tmp_path / "shop.duckdb")).save("duck-path")
    JSON(value=2).save("threads")
    Secret(value="canary7f3a").save("agent")
    (tmp_path / "profiles.yml").write_text(PROFILE)
    return PrefectDbtSettings(project_dir=shop_project, profiles_dir=tmp_path)


def _node_runs(flow_run_id: str) -> dict[str, str]:
    run = history.get_run(get_store(), flow_run_id)
    return {c["name"].rsplit("-", 1)[0]: c["state_name"] for c in run["children"]}


def test_each_node_is_a_run_of_its_own(settings):
    @flow
    def build():
        from core_blocks import get_run_context

        PrefectDbtRunner(settings=settings).invoke(["build"])
        return get_run_context().run.id

    runs = _node_runs(build())
    assert runs["model orders"] == "Completed" and runs["seed raw_orders"] == "Completed"
    assert runs["test unique_orders_id"] == "Completed"


def test_failed_nodes_fail_their_runs_and_the_invocation(broken_project, settings):
    settings = settings.model_copy(update={"project_dir": broken_project})
    ids = []

    @flow
    def build(raise_on_failure: bool):
        from core_blocks import get_run_context

        ids.append(get_run_context().run.id)
        return PrefectDbtRunner(settings=settings,
                                raise_on_failure=raise_on_failure).invoke(["build"])

    with pytest.raises(DbtFailure, match="Failures detected during invocation of dbt command "
                                         "'build':\nModel broken_model errored") as raised:
        build(True)
    assert isinstance(raised.value, ValueError)  # what Prefect's runner raises
    assert "canary7f3a" not in str(raised.value)  # dbt quoted the schema: a secret
    assert _node_runs(ids[0])["model broken_model"] == "Failed"
    assert build(False).success is False


def test_the_resolved_profiles_yml_is_private_and_removed(settings):
    with settings.resolve_profiles_yml() as folder:
        path = Path(folder) / "profiles.yml"
        text = path.read_text()
        assert path.stat().st_mode & 0o077 == 0
    assert "threads: 2\n" in text and "main_canary7f3a" in text
    assert not Path(folder).exists()
    assert not any("canary7f3a" in p.read_text(errors="ignore")
                   for p in Path(tempfile.gettempdir()).glob("core-blocks-dbt-*/profiles.yml"))


def test_a_variable_reference_says_what_to_use_instead(settings):
    (settings.profiles_dir / "profiles.yml").write_text(
        "shop:\n  target: \"{{ prefect.variables.target }}\"\n")
    with pytest.raises(DbtConfigError, match="no variables. Save the value as a block"):
        with settings.resolve_profiles_yml():
            pass


def test_settings_come_from_dbt_environment_variables(monkeypatch, tmp_path):
    from dbt_common.events.base_types import EventLevel

    monkeypatch.setenv("DBT_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(tmp_path / "p"))
    settings = PrefectDbtSettings(log_level=EventLevel.ERROR)
    assert settings.project_dir == tmp_path and settings.profiles_dir == tmp_path / "p"
    assert settings.log_level == "error"
    with pytest.raises(ValueError, match="log_level"):
        PrefectDbtSettings(log_level="loud")


def test_settings_name_a_missing_project_or_profiles(settings, tmp_path):
    settings.validate_for_orchestrator()
    with pytest.raises(DbtConfigError, match="No dbt_project.yml found in project_dir.*"
                                             "Pass project_dir explicitly"):
        settings.model_copy(update={"project_dir": tmp_path}).validate_for_orchestrator()
    with pytest.raises(ValueError, match='profiles_dir ".*nowhere" does not exist'):
        settings.model_copy(update={"profiles_dir": tmp_path / "nowhere"}
                            ).validate_for_orchestrator()


def test_the_executor_runs_one_node_and_reports_it(settings):
    from prefect_dbt.core._executor import DbtCoreExecutor
    from prefect_dbt.core._manifest import DbtNode

    seed = DbtNode("seed.shop.raw_orders", "raw_orders", "seed",
                   original_file_path="seeds/raw_orders.csv")
    result = DbtCoreExecutor(settings).execute_wave([seed])

    assert result.success and result.node_ids == ["seed.shop.raw_orders"]
    assert result.artifacts["seed.shop.raw_orders"]["status"] == "success"
