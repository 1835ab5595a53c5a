# The two quick-start commands: `make run` and `make test`. Both install into a project venv
# (.venv/), never into the system's Python (Debian's and Ubuntu's refuse pip installs).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: run test install install-test lint bench shell

$(PY):
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "Cannot create $(VENV) with $(PYTHON): on Debian/Ubuntu run: sudo apt-get install python3-venv" >&2; exit 1; }

install: $(PY)
	$(PIP) -e '.[embedded]'

install-test: $(PY)
	$(PIP) -e '.[test]'
	@./scripts/ensure-chromium

run: install
	$(PY) -m hub.cli serve

# A shell with the venv active: `chorus` is on PATH until you exit.
shell: install
	@echo "chorus is on PATH in this shell ($(VENV) is active); exit to leave."
	@. $(VENV)/bin/activate && exec $${SHELL:-/bin/sh}

lint: $(PY)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -c 'from importlinter.cli import lint_imports_command; lint_imports_command()'

test: install-test lint
	$(PY) -m pytest -q

bench: install-test
	$(PY) -m bench
