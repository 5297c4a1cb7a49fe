# The two set-up commands of the README. Each creates .venv on a fresh machine and installs the package into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU machines keep the local torch 2.13.0 CPU build; GPU users: install your torch into .venv first, then `make install CONSTRAINTS=`.
CONSTRAINTS ?= constraints/cpu.txt
DEMO_OUT ?= outputs/demo

.PHONY: install demo test lint bench clean

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(if $(CONSTRAINTS),-c $(CONSTRAINTS)) -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/egosonics demo --out $(DEMO_OUT)

test: $(VENV)/.installed
	@# The browser tests (tests/app, tests/study) drive Debian's chromium; install it on a fresh machine (root, e.g. CI).
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium for the browser tests (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests benchmarks

bench: $(VENV)/.installed
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) outputs .pytest_cache
