# The two commands of the README:
#   make run    runs Glossa on the embedded SQLite database with the corpus loaded
#   make test   runs the test suite
#   make bench  runs the benchmark (tests/bench/README.md; BENCH_ARGS=--quick for the short one)
# Both make a virtual environment in .venv with a Python >= 3.12 found by .ci/find-python.

VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench clean

$(PY):
	@python=$$(.ci/find-python) || exit 1; \
	  echo "Creating $(VENV) with $$python"; \
	  "$$python" -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	DEBUG=1 $(PY) manage.py migrate --no-input --verbosity 0
	DEBUG=1 $(PY) manage.py load_corpus
	DEBUG=1 $(PY) manage.py setup_dev_accounts
	@echo; echo "Glossa is starting at http://$(HOST):$(PORT)/  (Ctrl-C to stop)"; echo
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.dev
	# DEBUG=1 at import time: a generated key, plain static storage, no HTTPS redirects in the test client.
	DEBUG=1 $(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev
	$(PY) -m tests.bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
