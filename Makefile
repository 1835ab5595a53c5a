# The two quick-start commands: `make run` and `make test`.
PYTHON ?= python3
PIP := $(PYTHON) -m pip install --quiet --disable-pip-version-check

.PHONY: run test install install-test lint bench

install:
	$(PIP) -e '.[embedded]'

install-test:
	$(PIP) -e '.[test]'
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

run: install
	$(PYTHON) -m hub.cli serve

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy
	$(PYTHON) -c 'from importlinter.cli import lint_imports_command; lint_imports_command()'

test: install-test lint
	$(PYTHON) -m pytest -q

bench: install-test
	$(PYTHON) -m bench
