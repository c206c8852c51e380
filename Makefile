# Two entry points that work on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck imports unit serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/crmledger demo

serve: $(STAMP)
	$(BIN)/crmledger serve

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

# The outage tests take PostgreSQL, Kafka or a process away under load (the deployment test
# runs compose.yaml's services): they run after the parallel suite, one at a time, so that
# they measure the product and not a busy machine.
test: lint typecheck imports
	$(BIN)/pytest -n 2 --dist loadgroup -m "not outage"
	$(BIN)/pytest -n 1 -m outage

clean:
	rm -rf $(VENV) .crmledger .pytest_cache .mypy_cache .ruff_cache .hypothesis
