# Two commands do all the set-up: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamps
export MPLBACKEND := Agg
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help demo test test-nbs browser lab export docs bench student clean

help:
	@echo "make demo     train a small network and print its progress (sets up .venv)"
	@echo "make test     sync check, ruff, every notebook under nbdev_test, then pytest tests/"
	@echo "make test-nbs the notebooks alone under nbdev_test (quicker while writing a lesson)"
	@echo "make browser  install Debian's chromium (sudo apt-get) for the browser tests, which skip without it"
	@echo "make lab      JupyterLab on nbs/ (the course)"
	@echo "make export   nbdev_export + nbdev_clean + README, after editing notebooks"
	@echo "make docs     the documentation site, offline (docs/README.md)"
	@echo "make bench    speed comparisons with micrograd / PyTorch, and Trainer vs the plain loop (not part of the tests)"
	@echo "make student a learner's copy of nbs/ in student/, without the solutions (keeps your work)"
	@echo "make clean    remove build outputs"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel

# Runtime install: numpy, matplotlib, ipywidgets, tqdm (the package itself, editable).
$(STAMP)/runtime: $(BIN)/python setup.py settings.ini
	$(BIN)/python -m pip install -q -e .
	@mkdir -p $(STAMP) && touch $@

# Dev install: nbdev 2 and its pins, pytest, hypothesis, jupyterlab, micrograd, and the CPU
# build of PyTorch (a reference for tests and benchmarks only; never imported at run time).
$(STAMP)/dev: $(BIN)/python setup.py settings.ini
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q "torch==2.13.0"
	@mkdir -p $(STAMP) && touch $@ $(STAMP)/runtime

demo: $(STAMP)/runtime
	$(BIN)/backprop-nb train

# The browser tests skip (naming the command that installs the browser) when chromium is missing;
# nothing here installs system packages. CI installs it first (.ci/run), and there a missing browser fails.
test: $(STAMP)/dev
	$(BIN)/python tools/sync_check.py
	$(BIN)/ruff check backprop_nb tests benchmarks tools
	$(BIN)/nbdev_test --n_workers 0 --do_print
	$(BIN)/python -m pytest tests/ -q -p no:cacheprovider

# The notebooks alone, without pytest (quicker while writing a lesson).
test-nbs: $(STAMP)/dev
	$(BIN)/nbdev_test --n_workers 0 --do_print

# Asked for explicitly: installs a system package with sudo apt-get.
browser:
	bash tools/ensure_chromium.sh

export: $(STAMP)/dev
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean
	$(BIN)/python tools/render_readme.py

# The documentation site, offline: executes nbs/, renders them with Sphinx (docs/README.md).
docs: $(STAMP)/dev
	$(BIN)/python tools/build_docs.py

# Jupyter refuses to run as root unless told; containers often are root.
lab: $(STAMP)/dev
	$(BIN)/jupyter lab nbs/ $(if $(filter 0,$(shell id -u)),--allow-root)

bench: $(STAMP)/dev
	$(BIN)/python benchmarks/run.py

# A learner's copy of the course without the solution cells (tools/make_student.py; student/ is git-ignored).
student: $(STAMP)/runtime
	$(BIN)/python tools/make_student.py

clean:
	rm -rf build dist *.egg-info _proc _docs docs/_build
