# FactoryHub developer entry points. `make run` starts the hub on the embedded default;
# `make test` installs everything the suite needs and runs every tier.
PYTHON ?= python3
VENV ?= .venv
PATH_WITH_TOOLS := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test check-python dist

LAB := extensions/lab
LAB_SOURCES := $(LAB)/package.json $(LAB)/yarn.lock $(LAB)/pyproject.toml $(wildcard $(LAB)/src/*.ts) \
	$(wildcard $(LAB)/style/*) $(wildcard $(LAB)/factoryhub_lab/*.py) $(wildcard $(LAB)/factoryhub_lab/dashboard/*.py)

run: $(VENV)/.installed-local $(VENV)/.installed-lab node_modules/.installed
	PATH="$(PATH_WITH_TOOLS)" $(VENV)/bin/jupyterhub -f jupyterhub_config.py

test: check-python
	tests/bootstrap.sh
	$(MAKE) $(VENV)/.installed-test $(VENV)/.installed-lab $(VENV)/.installed-notebooks node_modules/.installed
	PATH="$(PATH_WITH_TOOLS)" $(VENV)/bin/python -m pytest $(PYTEST_ARGS)

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "FactoryHub needs Python >= 3.11 (set PYTHON=...)")'

$(VENV)/bin/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-%: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet -e '.[$*]'
	touch $@

# The user-side distribution (JupyterLab extension): its frontend is built from the npm
# registry by pip; a stale build in the tree would be shipped as is, so it goes first.
$(VENV)/.installed-lab: $(LAB_SOURCES) | $(VENV)/bin/python
	rm -rf $(LAB)/lib $(LAB)/factoryhub_lab/labextension $(LAB)/tsconfig.tsbuildinfo
	cd $(LAB) && PATH="$(CURDIR)/$(VENV)/bin:$(PATH)" jlpm install --immutable
	$(VENV)/bin/python -m pip install --quiet ./$(LAB)
	touch $@

# The starter notebooks' CPU path (CI runs them top to bottom).
$(VENV)/.installed-notebooks: notebooks/requirements-cpu.txt | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet -r notebooks/requirements-cpu.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Release wheels: factoryhub (the hub) and factoryhub-lab with its frontend prebuilt, so that
# nodes installing it need no Node.js. The lab wheel packages the fresh build .installed-lab
# made (hatch-jupyter-builder skips building when labextension/ exists); setuptools would ship
# whatever stale modules a previous build left in build/, so that goes first.
DIST ?= dist
LAB_VERSION = $(shell sed -n 's/^ *"version": *"\(.*\)",*$$/\1/p' $(LAB)/package.json)
LABEXTENSION_IN_WHEEL := factoryhub_lab-$(LAB_VERSION).data/data/share/jupyter/labextensions/@factoryhub/lab

dist: $(VENV)/.installed-lab | $(VENV)/bin/python
	rm -rf build $(DIST)/factoryhub-*.whl $(DIST)/factoryhub_lab-*.whl
	$(VENV)/bin/python -m pip wheel --quiet --no-deps --wheel-dir $(DIST) . ./$(LAB)
	$(VENV)/bin/python -m zipfile -l $(DIST)/factoryhub_lab-$(LAB_VERSION)-py3-none-any.whl \
		| grep '$(LABEXTENSION_IN_WHEEL)/static/style.js' >/dev/null \
		|| { echo "$(DIST)/factoryhub_lab-$(LAB_VERSION)-py3-none-any.whl lacks the prebuilt labextension" >&2; exit 1; }
	@ls $(DIST)/factoryhub-*.whl $(DIST)/factoryhub_lab-*.whl
