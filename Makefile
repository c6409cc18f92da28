# Two entry points for a fresh machine: `make run` and `make test`.
# Each creates .venv and installs what it needs (once per change of the requirements files).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: run test check bench clean

$(VENV)/.runtime-installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

$(VENV)/.bench-installed: requirements.txt requirements-dev.txt requirements-bench.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-bench.txt
	touch $@ $(VENV)/.runtime-installed

## run the daemon on safe defaults (public data, trading off, console alerts without a token)
run: $(VENV)/.runtime-installed
	$(PY) main.py run

## run the test suite (no network)
test: $(VENV)/.dev-installed
	$(PY) -m pytest

## validate the configuration and probe each component
check: $(VENV)/.runtime-installed
	$(PY) main.py check

## print the speed and memory figures (bench/); takes a few minutes
bench: $(VENV)/.bench-installed
	$(PY) bench/detector.py
	$(PY) bench/cycle.py
	$(PY) bench/daemon.py
	$(PY) bench/trading.py
	$(PY) bench/chart.py

clean:
	rm -rf $(VENV) .pytest_cache
