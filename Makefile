# The two commands: `make demo` (install everything, run the end-to-end demo) and
# `make test` (install what the tests need, start their services, run the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PACKAGES := -e . -e ./prefect_aws -e ./prefect_dbt -e ./prefect_docker -e ./prefect_slack
DEMO_HOME ?= $(CURDIR)/.demo

.PHONY: install install-test demo test services-up services-down bench lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

install: $(PY)
	$(PIP) install -q $(PACKAGES)

install-test: $(PY)
	$(PIP) install -q -e '.[test]' $(filter-out -e .,$(PACKAGES))

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
	$(VENV)/bin/ruff check core_blocks plugins tests bench scripts

bench: install
	$(PY) bench/cli_startup.py
	$(PY) bench/block_load.py
	$(PY) bench/task_overhead.py

clean:
	rm -rf $(VENV) .demo .bench *.egg-info */*.egg-info .pytest_cache
