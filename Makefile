# The two commands a newcomer needs on a fresh machine: `make demo` and `make test`.
# Both create .venv if it is missing and install the kit with all extras into it, and the
# TensorBoard plugin (its own distribution, under plugins/) next to it.
PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PLUGIN := plugins/tensorboard_plugin_accuracy_kit

.PHONY: demo test

demo: $(INSTALLED)
	$(VENV)/bin/kak improve --dataset digits --budget 2min --logdir runs/demo

test: $(INSTALLED)
	$(VENV_PYTHON) -m pytest

$(VENV_PYTHON):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): $(VENV_PYTHON) setup.cfg pyproject.toml $(PLUGIN)/setup.cfg $(PLUGIN)/pyproject.toml
	$(VENV_PYTHON) -m pip install --quiet --upgrade pip
	$(VENV_PYTHON) -m pip install --quiet -e $(PLUGIN)
	$(VENV_PYTHON) -m pip install --quiet -e ".[all,test]"
	touch $(INSTALLED)
