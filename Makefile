# The two commands of the README:  `make run`  (the lab on http://127.0.0.1:8000)  and  `make test`  (every test).
# Both build .venv from pyproject.toml with a normal (non-editable) install, the same path the Docker image takes,
# so the packaged templates and static files are what gets served and tested. (Test folders have no __init__.py:
# pytest puts each test folder, not the repository root, on sys.path, so `import app` finds the installed copy.)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast dev bench chromium clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q ".[test]"
	touch $(STAMP)

install: $(STAMP)
	$(BIN)/pip install -q --no-deps --force-reinstall .

run: install
	$(BIN)/creditlab serve

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then S=; else S=sudo; fi; \
	  $$S apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$S apt-get install -y -qq chromium >/dev/null; }

test: install chromium
	$(BIN)/pytest -q

test-fast: install
	$(BIN)/pytest -q -m "not slow and not browser"

dev: | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"

bench: install
	$(BIN)/creditlab bench --quick

clean:
	rm -rf $(VENV) build dist *.egg-info
