# Quick start: `make demo` runs the demo, `make test` runs the test suite. Both create .venv and
# install what they need on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
# torch and torchvision are installed together: a torchvision built for another torch fails to import
TORCH ?= torch==2.14.1 torchvision==0.29.1
PYTEST_ARGS ?=

.PHONY: demo test bench docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.torch: | $(PY)
	$(PIP) $(TORCH)
	touch $@

$(VENV)/.compare: $(VENV)/.torch pyproject.toml
	$(PIP) -e '.[compare]'
	touch $@

$(VENV)/.dev: $(VENV)/.torch pyproject.toml
	$(PIP) -e '.[dev,viz]'
	touch $@

# The augmentation comparison on the embedded Fashion-MNIST subset with its default settings
# (docs/compare.md), with the corrupted test sets (--shift): about 10 minutes on 2 quiet CPU cores;
# the budget stops it before 15 in any case.
# It needs only augkit with its compare extra (matplotlib, tqdm), not the development tools.
demo: $(VENV)/.compare
	$(PY) examples/quickstart.py --out runs/demo
	$(VENV)/bin/augkit compare --shift --jobs 2 --threads 2 --budget-minutes 13 -o runs/compare

test: $(VENV)/.dev
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: $(VENV)/.dev
	$(PY) benchmarks/run.py --out runs/bench

# the gallery and the benchmark plots are rendered into site/ by the hooks of docs/hooks.py
docs: $(VENV)/.dev
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

clean:
	rm -rf $(VENV) build dist runs .pytest_cache .hypothesis src/*.egg-info
