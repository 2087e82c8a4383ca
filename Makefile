# The two commands: `make demo` (install everything, run the end-to-end demo) and
# `make test` (install what the tests need, start their services, run the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PACKAGES := prefect_aws prefect_dbt prefect_docker prefect_slack prefect_dask
INTEGRATIONS := $(foreach p,$(PACKAGES),-e ./$(p))
# The distribution names before they became core-blocks-*: an old editable install of one would
# stay beside its renamed successor (and `blocks doctor` would rightly flag it as foreign). A
# compat editable install left its metadata in the source folder, which pip cannot uninstall.
OLD_NAMES := prefect-aws prefect-dbt prefect-docker prefect-slack
OLD_METADATA := $(foreach p,$(PACKAGES),$(p)/$(p).egg-info)
LINT_PATHS := core_blocks $(PACKAGES) plugins tests bench scripts
# compat: a path entry, not an import hook. With the default hook, running Python from the repo
# root imports the distribution folder prefect_aws/ as an empty namespace package instead of
# prefect_aws/prefect_aws (a path entry's regular package beats a namespace folder; a hook
# placed after the path finder does not).
EDITABLE := --config-settings editable_mode=compat
DEMO_HOME ?= $(CURDIR)/.demo

.PHONY: install install-test demo test services-up services-down bench bench-compare lint wheels clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

install: $(PY)
	$(PIP) uninstall -q -y $(OLD_NAMES) 2>/dev/null || true
	rm -rf $(OLD_METADATA)
	$(PIP) install -q -e '.[demo]'
	$(PIP) install -q $(EDITABLE) $(INTEGRATIONS)

install-test: $(PY)
	$(PIP) uninstall -q -y $(OLD_NAMES) 2>/dev/null || true
	rm -rf $(OLD_METADATA)
	$(PIP) install -q -e '.[test]'
	$(PIP) install -q $(EDITABLE) $(INTEGRATIONS)

# The demo's Docker stage starts a dockerd of its own (as root) and stops it after; it never
# uses DOCKER_HOST's engine or the default socket, and skips with how to run it otherwise.
demo: install
	rm -rf "$(DEMO_HOME)"
	CORE_BLOCKS_HOME="$(DEMO_HOME)/home" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) scripts/demo.py

test: install-test
	bash scripts/run_tests.sh

services-up:
	bash scripts/services.sh up

services-down:
	bash scripts/services.sh down

lint: install-test
	$(VENV)/bin/ruff check $(LINT_PATHS)

# Every distribution (the core and each integration) as a wheel in dist/; then
# `pip install --find-links dist core-blocks-aws` installs an integration with its core.
wheels: $(PY)
	rm -rf dist build */build  # a stale build/lib would put deleted modules in a wheel
	$(PIP) wheel -q --no-deps --wheel-dir dist ./ $(foreach p,$(PACKAGES),./$(p))

bench: install-test  # the S3 benchmark needs moto's server, a test extra
	$(PY) bench/cli_startup.py
	$(PY) bench/block_load.py
	$(PY) bench/scale.py  # CORE_BLOCKS_BENCH_MAX_BLOCKS=1000 for a quick run (default 10000)
	$(PY) bench/s3_throughput.py
	$(PY) bench/task_overhead.py
	$(PY) bench/run_history_scale.py
	$(PY) bench/huge_error.py
	$(PY) bench/dbt_invoke.py
	$(PY) bench/docker_run.py  # needs DOCKER_HOST (scripts/services.sh up); skips without
	$(PY) bench/dask_runner.py  # a LocalCluster of 4 worker processes against the thread pool

# Prefect in its own venv under the ignored .bench/, never in ours: its distributions would
# shadow the integrations (prefect-aws also installs `prefect_aws`).
PREFECT_VENV := .bench/prefect-venv
PREFECT_PY := $(PREFECT_VENV)/bin/python

# fastapi<0.150: FastAPI 0.155 removed Body(min_items=...), which Prefect 3.8.8's server still
# passes (prefect/server/api/concurrency_limits_v2.py), so `prefect server start` dies with a
# TypeError at import; 0.150-0.154 import but were never run through this benchmark, 0.149 was.
# prefect-aws: Prefect's own S3Bucket, for the S3 rows; moto[server] is not needed there (the
# moto server runs from our venv).
$(PREFECT_PY):
	$(PYTHON) -m venv $(PREFECT_VENV)
	$(PREFECT_PY) -m pip install -q --upgrade pip
	$(PREFECT_PY) -m pip install -q 'prefect==3.8.8' 'fastapi<0.150' prefect-aws prefect-dask

bench-compare: install-test $(PREFECT_PY)  # CORE_BLOCKS_BENCH_ROUNDS (default 5) pairs of runs
	$(PY) bench/compare_prefect.py --prefect-python $(PREFECT_PY)

clean:
	rm -rf $(VENV) .demo .bench dist build */build *.egg-info */*.egg-info .pytest_cache
