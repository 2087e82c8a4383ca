"""core-blocks-dask: run a flow's tasks on a dask.distributed cluster.

`DaskTaskRunner` sends each submitted task to Dask workers in other processes (or on other
hosts); they record the run in the flow's store and load blocks from it by name. Nothing here
imports dask until a flow starts the runner, so `import prefect_dask` stays cheap.

    from core_blocks import flow, task
    from prefect_dask import DaskTaskRunner

    @flow(task_runner=DaskTaskRunner(cluster_kwargs={"n_workers": 2}))
    def nightly(): ...
"""

from typing import TYPE_CHECKING

from core_blocks.lazy_exports import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {  # public name -> module defining it
    "DaskTaskRunner": "prefect_dask.task_runners",
    "get_dask_client": "prefect_dask.clients",
    "get_async_dask_client": "prefect_dask.clients",
    "BlockTransferError": "prefect_dask.errors",
    "RemoteTaskError": "prefect_dask.errors",
    "WorkerLostError": "prefect_dask.errors",
    "WorkerSetupError": "prefect_dask.errors",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # one import per name of _EXPORTS, for type checkers (tests/packaging)
    from prefect_dask.clients import get_async_dask_client, get_dask_client
    from prefect_dask.errors import (
        BlockTransferError,
        RemoteTaskError,
        WorkerLostError,
        WorkerSetupError,
    )
    from prefect_dask.task_runners import DaskTaskRunner
