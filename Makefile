# Two commands matter (README.md): `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
NBPROD := $(VENV)/bin/nbprod
PYTEST_ARGS ?=

.PHONY: setup demo test check unit bench clean constraints reliability

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

# Set up, then run the example pipeline job (prepare -> train -> evaluate) on the embedded
# default: SQLite registry + local artifact store in .nbprod/.
demo: $(VENV)/.installed
	$(NBPROD) job run pipeline
	$(NBPROD) runs --last 3

# Static checks (ruff, mypy --strict, import layers), then the whole test suite.
test: $(VENV)/.installed
	$(VENV)/bin/ruff check nbprod templates tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest --ignore=tests/reliability $(PYTEST_ARGS)

# The reliability catalogue (tests/reliability): one test per case, ending with the table
# case / backend / outcome / pass-fail (SQLite and PostgreSQL where a case uses the registry).
reliability: $(VENV)/.installed
	$(PY) -m pytest tests/reliability $(PYTEST_ARGS)

unit: $(VENV)/.installed
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(PY) bench/run_overhead.py
	$(PY) bench/lint.py
	$(PY) bench/test_notebooks.py
	$(PY) bench/sweep.py
	$(PY) bench/record_cost.py --without-jupyterlab

# Re-pin constraints.txt to what the current venv holds (after changing dependencies).
constraints: $(VENV)/.installed
	{ sed -n '1,3p' constraints.txt; $(PY) -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf .nbprod
