# The two commands: `make demo` (install everything, run the end-to-end demo) and
# `make test` (install what the tests need, start their services, run the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PACKAGES := prefect_aws prefect_dbt prefect_docker prefect_slack
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

.PHONY: install install-test demo test services-up services-down bench lint wheels clean

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
	$(PY) bench/s3_throughput.py
	$(PY) bench/task_overhead.py
	$(PY) bench/run_history_scale.py
	$(PY) bench/dbt_invoke.py
	$(PY) bench/docker_run.py  # needs DOCKER_HOST (scripts/services.sh up); skips without

clean:
	rm -rf $(VENV) .demo .bench dist build */build *.egg-info */*.egg-info .pytest_cache
