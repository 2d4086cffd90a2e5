# Two commands matter (README.md): `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
NBPROD := $(VENV)/bin/nbprod
PYTEST_ARGS ?=

.PHONY: setup demo test check unit bench clean constraints reliability lab

# Two stages, so `make demo` installs only what a user of the example needs (nbprod, its
# `examples` extra, JupyterLab with nbprod's extension built from labextension/); `make test`
# adds the development tools and test services on top.
$(VENV)/.installed-run: pyproject.toml constraints.txt labextension/package.json labextension/yarn.lock
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[examples,lab]'
	# What a wheel install does (an editable one skips data-files): enable the server extension.
	install -D -m 644 jupyter-config/server-config/nbprod.json $(VENV)/etc/jupyter/jupyter_server_config.d/nbprod.json
	$(MAKE) lab
	touch $@

$(VENV)/.installed: $(VENV)/.installed-run
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

# The JupyterLab extension (labextension/, TypeScript): node packages exactly as yarn.lock pins
# them, tsc, then @jupyter/builder into nbprod/labextension/, which a wheel ships as
# share/jupyter/labextensions/nbprod-lab/ (here: linked there, so a rebuild is live).
LABEXT := $(VENV)/share/jupyter/labextensions/nbprod-lab
lab:
	cd labextension && PATH="$(abspath $(VENV))/bin:$$PATH" jlpm install --immutable
	cd labextension && PATH="$(abspath $(VENV))/bin:$$PATH" jlpm build
	mkdir -p $(dir $(LABEXT)) && rm -rf $(LABEXT) && ln -s $(abspath nbprod/labextension) $(LABEXT)

setup: $(VENV)/.installed

# Set up, then take the example pipeline (prepare -> train -> evaluate) the whole way to staging
# on the embedded default (SQLite registry + local artifact store in .nbprod/): lint, test, build
# a version, run it, promote it behind its gates, run what staging points at. Idempotent: the
# same notebooks build the same version, and promoting it again is a no-op.
DEMO_VERSION := .nbprod/demo-version
demo: $(VENV)/.installed-run
	@echo "== 1/6 lint: production-readiness rules and ruff on every notebook"
	$(NBPROD) lint
	@echo "== 2/6 test: run each notebook with the job's test parameters"
	$(NBPROD) test
	@echo "== 3/6 build: an immutable version of the job (notebooks, parameters, environment lock)"
	@mkdir -p .nbprod
	$(NBPROD) job build pipeline --json | $(PY) -c 'import json, sys; v = json.load(sys.stdin)["version"]; print(v); print(f"pipeline: version {v}", file=sys.stderr)' > $(DEMO_VERSION)
	@echo "== 4/6 run that version (the promotion gates need a succeeded run of it)"
	$(NBPROD) job run pipeline --version $$(cat $(DEMO_VERSION))
	@echo "== 5/6 promote it to staging: gates lint, tests, succeeded_run"
	$(NBPROD) promote pipeline $$(cat $(DEMO_VERSION)) --to staging
	@echo "== 6/6 run what staging points at, as a scheduler would"
	$(NBPROD) job run pipeline --stage staging
	@$(NBPROD) runs --last 1 --json | $(PY) -c 'import json, sys; run = json.load(sys.stdin)[0]; print("\nreport of the last step:", next(a["path"] for a in run["artifacts"] if a["name"] == "report.html"))'
	@echo "next (after . $(VENV)/bin/activate):"
	@echo "  nbprod runs                                    what ran, with key values"
	@echo "  nbprod stages pipeline                         where each stage points"
	@echo "  jupyter lab                                    the nbprod sidebar beside the notebooks (docs/jupyterlab.md)"
	@echo "  nbprod promote pipeline $$(cat $(DEMO_VERSION)) --to production --dry-run   its gates (production also needs an approval)"
	@echo "  production needs one approval by someone other than the builder: as another user,"
	@echo "  nbprod approve pipeline $$(cat $(DEMO_VERSION)), then nbprod promote pipeline $$(cat $(DEMO_VERSION)) --to production (docs/promote.md)"

# Static checks (ruff, mypy --strict, import layers), then the whole test suite.
test: $(VENV)/.installed
	$(VENV)/bin/ruff check nbprod templates tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	cd labextension && PATH="$(abspath $(VENV))/bin:$$PATH" jlpm run check
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
	$(PY) bench/listing.py
	$(PY) bench/test_notebooks.py
	$(PY) bench/sweep.py
	$(PY) bench/run_cost.py
	$(PY) bench/record_cost.py --without-jupyterlab
	$(PY) bench/server_runs.py
	$(PY) bench/drift.py

# Re-pin constraints.txt to what the current venv holds (after changing dependencies).
constraints: $(VENV)/.installed
	{ sed -n '1,3p' constraints.txt; $(PY) -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf .nbprod
