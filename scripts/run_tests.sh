#!/usr/bin/env bash
# Start the services the tests need, run lint and the whole suite, stop the services by PID.
# Under CI=true a test whose service is missing fails instead of skipping (tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
STATE=${CORE_BLOCKS_SERVICES_DIR:-/tmp/core-blocks-services}
export CORE_BLOCKS_SERVICES_DIR=$STATE

trap 'bash scripts/services.sh down' EXIT
bash scripts/services.sh up
# shellcheck disable=SC1091
source "$STATE/env.sh"

"$VENV/bin/ruff" check core_blocks prefect_aws prefect_dbt prefect_docker prefect_slack prefect_dask \
    plugins tests bench scripts
"$VENV/bin/python" -m pytest "$@"
