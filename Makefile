# Entry points for a fresh machine: `make run`, `make demo` and `make test`.
# Each creates .venv and installs what it needs (once per change of the requirements files).
# Another interpreter: `make PYTHON=python3.12 run` (a .venv made by a different one is rebuilt).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# The pinned pandas 3 and numpy 2.4 wheels need Python 3.11 or newer.
MIN_PYTHON := 3.11
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' \
                    2>/dev/null)
PYTHON_IS_NEW_ENOUGH := $(PYTHON) -c 'import sys; \
    sys.exit(sys.version_info < tuple(map(int, "$(MIN_PYTHON)".split("."))))'

.PHONY: run demo lint docs test test-fast check bench clean python-version FORCE

## stop early, naming the interpreter found, when it is missing or too old
python-version:
	@$(PYTHON_IS_NEW_ENOUGH) 2>/dev/null || { \
	  found=$$(command -v $(PYTHON) >/dev/null && $(PYTHON) --version 2>&1 || echo 'not installed'); \
	  echo "error: this project needs Python >= $(MIN_PYTHON), but PYTHON=$(PYTHON) is $$found." >&2; \
	  echo "       Pick another interpreter, e.g.: make PYTHON=python3.12 run" >&2; exit 1; }

# Rewritten (so every install stamp is redone) only when .venv is new: made now, or rebuilt
# because it came from another Python version or its python no longer runs.
$(VENV)/.interpreter: FORCE | python-version
	@have=$$(sed -n -e 's/^version *= *\([0-9]*\.[0-9]*\).*/\1/p' \
	        -e 's/^version_info *= *\([0-9]*\.[0-9]*\).*/\1/p' $(VENV)/pyvenv.cfg 2>/dev/null | head -n 1); \
	if [ "$$have" = "$(PYTHON_VERSION)" ] && $(PY) -c '' 2>/dev/null; then \
	  [ "$$(cat $@ 2>/dev/null)" = "$(PYTHON_VERSION)" ] || echo "$(PYTHON_VERSION)" > $@; \
	else \
	  if [ -e $(VENV) ]; then echo "$(VENV) is from Python $${have:-unknown} or broken;" \
	    "recreating it with $(PYTHON) (Python $(PYTHON_VERSION))" >&2; fi; \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && echo "$(PYTHON_VERSION)" > $@; \
	fi

FORCE:

$(VENV)/.runtime-installed: requirements.txt $(VENV)/.interpreter
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

# requirements-dev.txt takes in the runtime pins and the optional cluster extra (tested too).
$(VENV)/.dev-installed: requirements.txt requirements-cluster.txt requirements-dev.txt \
                        $(VENV)/.interpreter
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

$(VENV)/.bench-installed: requirements.txt requirements-cluster.txt requirements-dev.txt \
                         requirements-bench.txt $(VENV)/.interpreter
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-bench.txt
	touch $@ $(VENV)/.runtime-installed

## run the daemon on safe defaults (public data, trading off, console alerts without a token)
run: $(VENV)/.runtime-installed
	$(PY) main.py run

## the daemon offline on the sample candles (replay venue, paper trades, dashboard); Ctrl-C
demo: $(VENV)/.runtime-installed
	$(PY) main.py demo

## static checks: ruff (style, blind excepts) over everything, mypy over the production code
lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m mypy

## the documentation site (mkdocs.yml, docs/) into site/; strict: a broken link or a missing
## file is an error
docs: $(VENV)/.dev-installed
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --quiet

## the static checks, the docs site, then the test suite (no network): CI runs this
test: lint docs
	bash .ci/ensure-chromium
	$(PY) -m pytest

## the static checks, then the test suite without the slow end-to-end tests (marked slow)
test-fast: lint
	$(PY) -m pytest -m "not slow"

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
	$(PY) bench/backtest.py
	$(PY) bench/sweep.py
	$(PY) bench/venues.py
	$(PY) bench/feed.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
