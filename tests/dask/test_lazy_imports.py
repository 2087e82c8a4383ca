"""Installing core-blocks-dask costs the CLI nothing: dask and distributed load only when a
flow starts a DaskTaskRunner."""

import subprocess
import sys


def test_importing_prefect_dask_and_the_cli_loads_no_dask():
    probe = ("import sys, core_blocks.cli, prefect_dask; from prefect_dask import "
             "DaskTaskRunner, get_dask_client; DaskTaskRunner(address='tcp://127.0.0.1:1');"
             "print(*{'dask', 'distributed', 'cloudpickle'} & sys.modules.keys())")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
