# The two commands: `make demo` (install everything, run the end-to-end demo) and
# `make test` (install what the tests need, start their services, run the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
INTEGRATIONS := -e ./prefect_aws -e ./prefect_dbt -e ./prefect_docker -e ./prefect_slack
# compat: a path entry, not an import hook. With the default hook, running Python from the repo
# root imports the distribution folder prefect_aws/ as an empty namespace package instead of
# prefect_aws/prefect_aws (a path entry's regular package beats a namespace folder; a hook
# placed after the path finder does not).
EDITABLE := --config-settings editable_mode=compat
DEMO_HOME ?= $(CURDIR)/.demo

.PHONY: install install-test demo test services-up services-down bench lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

install: $(PY)
	$(PIP) install -q -e '.[demo]'
	$(PIP) install -q $(EDITABLE) $(INTEGRATIONS)

install-test: $(PY)
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
	$(VENV)/bin/ruff check core_blocks prefect_aws plugins tests bench scripts

bench: install-test  # the S3 benchmark needs moto's server, a test extra
	$(PY) bench/cli_startup.py
	$(PY) bench/block_load.py
	$(PY) bench/s3_throughput.py
	$(PY) bench/task_overhead.py

clean:
	rm -rf $(VENV) .demo .bench *.egg-info */*.egg-info .pytest_cache
