# Two commands do all set-up on a fresh machine with Python 3.11 and make:
#   make demo   -- creates .venv, installs suptheory, runs the calculator on a realistic layer
#   make test   -- creates .venv if needed, installs the test extras, runs the whole suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-fast lint docs figures bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -e '.[test]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-docs: pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -e '.[docs]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) -m suptheory calc --n 768 --m 24576 --l 32 --explain

test: $(VENV)/.installed-test
	$(PY) -m pytest

# The suite without the tests marked slow (training runs, example scripts at their small size).
test-fast: $(VENV)/.installed-test
	$(PY) -m pytest -m "not slow"

# The docs site (MkDocs material + mkdocstrings); --strict turns every warning into an error.
docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

# Regenerate the figures the docs show, from the example scripts (never pasted by hand).
figures: $(VENV)/.installed
	for f in examples/fig_*.py; do $(PY) $$f --out docs/figures || exit 1; done

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check suptheory tests benchmarks examples
	$(VENV)/bin/ruff format --check suptheory tests benchmarks examples
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
