# FactoryHub developer entry points. `make run` starts the hub on the embedded default;
# `make test` installs everything the suite needs and runs every tier.
PYTHON ?= python3
VENV ?= .venv
PATH_WITH_TOOLS := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test check-python

run: $(VENV)/.installed-local node_modules/.installed
	PATH="$(PATH_WITH_TOOLS)" $(VENV)/bin/jupyterhub -f jupyterhub_config.py

test: check-python
	tests/bootstrap.sh
	$(MAKE) $(VENV)/.installed-test node_modules/.installed
	PATH="$(PATH_WITH_TOOLS)" $(VENV)/bin/python -m pytest $(PYTEST_ARGS)

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "FactoryHub needs Python >= 3.11 (set PYTHON=...)")'

$(VENV)/bin/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-%: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet -e '.[$*]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@
