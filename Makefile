# gradlab developer commands. Every target installs what it needs into $(VENV) first (idempotent: stamp files).
VENV ?= .venv
PY = $(VENV)/bin/python
PIP = $(PY) -m pip install -q --disable-pip-version-check
# The reference implementation for tests and benchmarks: exactly this version (a CPU build lies on disk here).
TORCH = torch==2.13.0
# torchvision: the reference for gradlab.data.transforms' tests (built for torch 2.13.0; pip keeps the torch above)
TORCHVISION = torchvision==0.28.0

.PHONY: venv demo test bench lint docs clean

venv: $(VENV)/.stamp-base

$(PY):
	python3 -m venv $(VENV)
	$(PIP) --upgrade pip

$(VENV)/.stamp-base: pyproject.toml | $(PY)
	$(PIP) -e .
	@touch $@

$(VENV)/.stamp-test: pyproject.toml | $(PY)
	$(PIP) -e '.[test,mpi]' '$(TORCH)' '$(TORCHVISION)'
	@touch $@

$(VENV)/.stamp-bench: pyproject.toml | $(PY)
	$(PIP) -e '.[bench,mpi,fast]' '$(TORCH)'
	@touch $@

# the demo runs on the fused kernels (numba, gradlab[fast]); gradlab itself needs numpy only
$(VENV)/.stamp-demo: pyproject.toml | $(PY)
	$(PIP) -e '.[fast]'
	@touch $@

$(VENV)/.stamp-lint: pyproject.toml | $(PY)
	$(PIP) -e '.[lint]'
	@touch $@

$(VENV)/.stamp-docs: pyproject.toml | $(PY)
	$(PIP) -e '.[docs]'
	@touch $@

demo: $(VENV)/.stamp-demo
	$(PY) examples/demo.py

.PHONY: chromium
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium) \
	  || echo "chromium could not be installed: the browser test will be skipped"

test: $(VENV)/.stamp-test chromium
	$(PY) -m pytest -q -n 2

bench: $(VENV)/.stamp-bench
	$(PY) benchmarks/run.py

lint: $(VENV)/.stamp-lint
	$(PY) -m ruff check gradlab tests benchmarks examples
	$(PY) -m mypy gradlab

# The documentation site (docs/, mkdocs.yml) into site/; warnings are errors, so a broken reference fails the build.
docs: $(VENV)/.stamp-docs
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

clean:
	rm -rf build *.egg-info .pytest_cache .mypy_cache .ruff_cache benchmarks/results site
