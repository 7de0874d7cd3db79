# The course's front door.
#
#   make lab        set up, then open JupyterLab on the course (127.0.0.1 only)
#   make test       set up, then run the whole pytest suite
#   make bench      set up, then run the benchmarks in benchmarks/
#   make grade LAB=lab02_etcd   set up, then autograde every submitted/<student>/<lab> in a sandbox
#                   (feedback/, reports/<lab>/; course/INSTRUCTORS.md); LAB="lab02_etcd lab03_apiserver" grades both
#   make setup      the virtualenv in .venv plus the Debian packages; idempotent
#   make clean      remove caches and build leftovers (keeps .venv and grades)
#   make distclean  clean, and remove .venv too
#
# `setup` is cheap on a second run: the Debian script only looks commands up,
# and pip runs only when pyproject.toml differs from the copy saved in .venv at
# the last successful install.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The interpreter the venv is made from: Debian's /usr/bin/python3 when it is 3.11 or newer (Debian builds it
# with profile-guided and link-time optimization, which runs the engine about 15% faster than a plain build
# such as pyenv's), else the python3 on PATH. `make PYTHON=python3.12 ...` picks another.
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& echo /usr/bin/python3 || echo python3)
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed-pyproject.toml

# Recipes run "inside" the venv: its bin first on PATH, since nbgrader calls
# `alembic` and notebooks call `jupyter` from PATH (DESIGN.md, Known pitfalls).
IN_VENV := env PATH="$(CURDIR)/$(VENV)/bin:$$PATH" VIRTUAL_ENV="$(CURDIR)/$(VENV)"

PYTEST_ARGS ?= --durations=25
BENCH_ARGS ?=
LAB_ARGS ?=
GRADE_ARGS ?=
LAB ?=
LAB_NOTEBOOK := $(wildcard course/00_welcome.ipynb)
# Jupyter refuses to start as root without this; developers' and CI's machines run as root.
LAB_ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: help setup system-deps python-deps lab test bench grade clean distclean

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

setup: system-deps python-deps

system-deps:
	@bash scripts/install-system-deps.sh

$(VENV_PYTHON):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "setup: $(PYTHON) is $$($(PYTHON) --version 2>&1); the course needs Python 3.11 or newer (make PYTHON=python3.12 ...)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# The grep drops one warning per package that this machine's pip configuration
# prints for a missing local index folder; pipefail keeps pip's exit status.
python-deps: $(VENV_PYTHON)
	@set -o pipefail; \
	if ! cmp -s pyproject.toml $(INSTALLED); then \
		echo "setup: installing the engine and its dependencies into $(VENV) (pip install -e '.[dev]')"; \
		$(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 \
			| { grep -v 'is ignored: it is neither a file nor a directory' || true; } && \
		cp pyproject.toml $(INSTALLED); \
	fi

lab: setup
	$(IN_VENV) $(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir="$(CURDIR)" \
		$(LAB_ROOT_FLAG) $(LAB_ARGS) $(LAB_NOTEBOOK)

test: setup
	$(IN_VENV) $(VENV_PYTHON) -m pytest tests $(PYTEST_ARGS)

bench: setup
	$(IN_VENV) $(VENV_PYTHON) -m benchmarks $(BENCH_ARGS)

grade: setup
	@test -n "$(LAB)" || { echo "grade: name the lab, e.g. make grade LAB=lab02_etcd" >&2; exit 2; }
	$(IN_VENV) $(VENV_PYTHON) -m grading $(LAB) $(GRADE_ARGS)

clean:
	rm -rf .pytest_cache .hypothesis build dist test-artifacts *.egg-info
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
