# The two commands a newcomer needs on a fresh machine: `make demo` and `make test`.
# Both create .venv if it is missing and install the kit with all extras into it.
PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: demo test

demo: $(INSTALLED)
	$(VENV)/bin/kak improve --dataset digits --budget 3min --logdir runs/demo

test: $(INSTALLED)
	$(VENV_PYTHON) -m pytest

$(VENV_PYTHON):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): $(VENV_PYTHON) setup.cfg pyproject.toml
	$(VENV_PYTHON) -m pip install --quiet --upgrade pip
	$(VENV_PYTHON) -m pip install --quiet -e ".[all]"
	touch $(INSTALLED)
