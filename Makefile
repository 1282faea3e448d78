# The two set-up commands of the README. Each creates .venv if needed.
#   make demo   install hunchlab and run `hunch demo` in ./hunch-demo
#   make test   install hunchlab with everything the tests need, then lint (ruff), type-check
#               (mypy --strict) and run the whole suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test install install-test

$(PY):
	$(PYTHON) -m venv $(VENV)

install: $(PY)
	$(PIP) install -e .

# torch==2.13.0 comes first, pinned: an unpinned torch pulls gigabytes of CUDA packages.
install-test: $(PY)
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[test,ray]'
	@# The browser tests drive Debian's chromium (never a downloaded browser); the team-store
	@# tests start a throwaway cluster from Debian's postgresql; the JSON tests also parse with jq.
	@# Installed only where that is safe: apt-get exists, we are root, and nobody is at a terminal.
	@missing=""; [ -x /usr/bin/chromium ] || missing="chromium"; \
	command -v jq >/dev/null || missing="$$missing jq"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing="$$missing postgresql"; \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
	    && { [ -n "$$CI" ] || [ ! -t 0 ]; }; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

demo: install
	rm -rf hunch-demo
	$(VENV)/bin/hunch demo hunch-demo

test: install-test
	$(PY) -m ruff check src tests bench
	$(PY) -m mypy
	$(PY) -m pytest -q
