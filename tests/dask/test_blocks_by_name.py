"""Blocks passed to tasks on Dask travel by name: no secret value is in the bytes Dask holds,
workers load them from the shared store and secret backend, and what cannot travel by name is
refused in one line."""

from __future__ import annotations

import time

import cloudpickle
import pytest

from core_blocks import Secret, flow, task
from prefect_dask import BlockTransferError, DaskTaskRunner, RemoteTaskError, WorkerSetupError
from tests.dask.conftest import start_local_cluster


@task
def reveal_length(secret: Secret, pause: float = 0.0) -> int:
    time.sleep(pause)
    return len(secret.get())


def _scheduler_specs(dask_scheduler) -> list[bytes]:
    return [cloudpickle.dumps(ts.run_spec) for ts in dask_scheduler.tasks.values()]


def test_a_saved_block_travels_by_name_without_its_secret(runner, canary):
    Secret(value=canary).save("warehouse-password")

    @flow(task_runner=runner)
    def uses_secret():
        future = reveal_length.submit(Secret.load("warehouse-password"), pause=1.0)
        time.sleep(0.5)  # the task is on the scheduler (and running on a worker) now
        specs = runner_of_this_flow().client.run_on_scheduler(_scheduler_specs)
        return future.result(), specs

    length, specs = uses_secret()

    assert length == len(canary)  # the worker loaded it, secret and all
    sent = b"".join(specs)
    assert b"secret/warehouse-password" in sent  # what Dask holds names the block...
    assert canary.encode() not in sent  # ...and never its secret


def runner_of_this_flow() -> DaskTaskRunner:
    from core_blocks.runtime.context import get_run_context

    return get_run_context().task_runner


def test_an_unsaved_block_with_secrets_is_refused(runner, canary):
    @flow(task_runner=runner)
    def passes_unsaved():
        return reveal_length.submit(Secret(value=canary)).state

    state = passes_unsaved()

    assert state.name == "Failed"
    assert state.message == (
        "An unsaved secret block in the arguments of task 'reveal_length' "
        "holds secret values (value), which are never sent to Dask workers. Save it first "
        "(block.save('name')) and pass the saved block: workers load it by name.")
    assert canary not in repr(state) and canary not in str(state.error)


def test_a_block_changed_since_it_was_saved_is_refused(runner):
    secret = Secret(value="first-value")
    secret.save("rotating")
    secret.value = "second-value"

    @flow(task_runner=runner)
    def passes_changed():
        return reveal_length.submit(secret).state

    state = passes_changed()

    assert state.name == "Failed" and isinstance(state.error, BlockTransferError)
    assert "'secret/rotating' in the arguments of task 'reveal_length' was changed since it " \
           "was saved" in state.message
    assert "second-value" not in state.message


def test_a_worker_without_the_secret_backend_fails_the_task_in_one_line(cluster_home, canary):
    Secret(value=canary).save("api-token")
    from cryptography.fernet import Fernet

    wrong_key = {**cluster_home, "CORE_BLOCKS_SECRET_KEY": Fernet.generate_key().decode()}
    cluster = start_local_cluster(wrong_key, workers=1)
    try:
        @flow(task_runner=DaskTaskRunner(address=cluster.scheduler_address))
        def on_a_bad_worker():
            future = reveal_length.submit(Secret.load("api-token"))
            future.wait()
            return future.state

        state = on_a_bad_worker()
    finally:
        cluster.close()

    assert state.name == "Failed" and isinstance(state.error, WorkerSetupError)
    assert state.message.startswith(
        "Block 'secret/api-token' could not be loaded on ")
    assert "CORE_BLOCKS_SECRET_BACKEND" in state.message and "\n" not in state.message
    assert canary not in state.message


def test_pack_refuses_a_bare_secret_str(canary):
    from pydantic import SecretStr

    from prefect_dask.packing import pack

    with pytest.raises(BlockTransferError, match="Save it as a Secret block"):
        pack({"password": SecretStr(canary)}, "the arguments of task 't'")


def test_an_error_quoting_a_secret_comes_back_masked(runner, canary):
    Secret(value=canary).save("leaky")

    @task
    def leak(secret: Secret) -> None:
        raise ValueError(f"login failed with {secret.get()}")

    @flow(task_runner=runner)
    def leaks():
        future = leak.submit(Secret.load("leaky"))
        future.wait()
        return future.state, future.run.error

    state, recorded = leaks()

    assert state.name == "Failed" and isinstance(state.error, RemoteTaskError)
    assert str(state.error) == "ValueError: login failed with **********"
    assert canary not in state.message and canary not in "".join(filter(None, recorded))
