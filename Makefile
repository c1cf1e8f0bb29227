# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CODE := aggregator webapp tests $(wildcard bench)

.PHONY: install run test test-all lint fmt bench demo clean translations

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/aggregator demo

## Serve the demo agenda offline on http://127.0.0.1:5000 (embedded SQLite under var/).
run: demo
	$(BIN)/aggregator fetch
	AGENDA_BASE_URL=http://127.0.0.1:5000 $(BIN)/aggregator serve

## Benchmarks: figures and ratios printed side by side (about 15 minutes).
bench: $(STAMP)
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.fetch
	$(BIN)/python -m bench.merge
	$(BIN)/python -m bench.dedup
	$(BIN)/python -m bench.incremental
	$(BIN)/python -m bench.dedup_quality --test
	$(BIN)/python -m bench.web
	$(BIN)/python -m bench.compressed
	$(BIN)/python -m bench.load

JS_STAMP := tests/js/node_modules/.installed

# ical.js and axe-core for the interop and accessibility tests (skipped, with the reason,
# when npm is absent).
$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null; then \
		cd tests/js && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: ical.js and axe-core tests will be skipped"; fi

## Fast suite (what CI runs); PostgreSQL tests run when AGENDA_TEST_POSTGRES_URL is reachable,
## browser tests when /usr/bin/chromium exists.
test: $(STAMP) $(JS_STAMP)
	$(BIN)/pytest -q -m "not slow"

test-all: $(STAMP) $(JS_STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format $(CODE)
	$(BIN)/ruff check --fix $(CODE)

clean:
	rm -rf $(VENV) var build *.egg-info

## After editing webapp/translations/*/LC_MESSAGES/messages.po (new strings: see README).
translations: $(STAMP)
	$(BIN)/pybabel compile -d webapp/translations
