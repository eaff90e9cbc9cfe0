# biosnn: `make demo` and `make test` each create .venv when missing, install, and run.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
# A Python >= 3.12 (Brian2 2.10 and brian2cuda need it); override with PYTHON=...
PYTHON ?= $(shell for p in python3.12 $$(ls -d $$HOME/.pyenv/versions/3.12*/bin/python 2>/dev/null) python3.13 $$(ls -d $$HOME/.pyenv/versions/3.1[3-9]*/bin/python 2>/dev/null) python3; do \
            command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo-report
FIGURES_OUT ?= figures/out
REPORT_OUT ?= report.html
PYTEST_ARGS ?=
# worker processes of the fast set (pytest-xdist; each test keeps one torch thread): the CI machines have 2 cores
PYTEST_WORKERS ?= 2

.PHONY: demo figures report numbers test test-faults test-wheel lint test-compiled test-cuda-build test-all venv bench bench-scaling browser test-browser clean

$(STAMP): setup.cfg pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.12 found; pass PYTHON=/path/to/python3.12" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	# spikingjelly is only a test oracle; its torchvision dependency breaks with this torch.
	$(PY) -m pip install --quiet --no-deps spikingjelly==0.0.0.0.14
	# NIR round trips (tests/nir/test_nir_frameworks.py): norse's requirements would replace torch (--no-deps); spikingjelly
	# 2.0 (its NIR exchange) shares its package name with the oracle above, so it lives in a directory of its own
	$(PY) -m pip install --quiet --no-deps norse==1.1.0
	$(PY) -m pip install --quiet --no-deps --upgrade --target $(VENV)/peers/spikingjelly-2.0.0 spikingjelly==2.0.0 loguru==0.7.3
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/biosnn validate --models all --target numpy --out $(DEMO_OUT)

# Every publication figure (PDF + 300 dpi PNG) from the stored study results and the demo's report
# (the demo runs first when its report is missing).
figures: $(STAMP) $(DEMO_OUT)/report.json
	$(VENV)/bin/biosnn figures --results biosnn/reporting/figures/results $(DEMO_OUT) --out $(FIGURES_OUT)

# One self-contained HTML page of the validation, the studies and every figure (after make demo).
report: figures
	$(VENV)/bin/biosnn report --results $(DEMO_OUT) biosnn/reporting/figures/results --figures $(FIGURES_OUT) --out $(REPORT_OUT)

# The study numbers quoted in the README and docs/, regenerated from the stored results (a fast test fails when
# a block differs from what its results give: edit the results or the generator, never the text).
NUMBERED := README.md $(wildcard docs/*.md)
numbers: $(STAMP)
	$(VENV)/bin/biosnn numbers $(NUMBERED)

$(DEMO_OUT)/report.json: | $(STAMP)
	$(MAKE) demo

# The fast set: everything but the training studies (slow) and the compiled targets.
test: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) -m "not slow and not cython and not cpp_standalone and not cuda and not cuda_build and not browser" $(PYTEST_ARGS)

# Faults: Ctrl-C, SIGKILL, full disks and orphaned workers, the slow ones included (CI runs this after `make test`).
test-faults: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) -m "faults" $(PYTEST_ARGS)

# The wheel as a user installs it: built, installed (not editable) into a fresh venv, its commands run.
test-wheel: $(STAMP)
	tools/wheel_smoke.sh $(PY)

# Lint and format (ruff, configured in pyproject.toml); CI runs it.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# One case per model and every network on Brian2's compiled targets (cython, cpp_standalone).
test-compiled: $(STAMP)
	$(PY) -m pytest -m "(cython or cpp_standalone) and not slow" $(PYTEST_ARGS)

# brian2cuda projects generated and nvcc-compiled without a GPU (skips without nvcc); compiled projects are
# cached by the hash of their sources in $$BIOSNN_CUDA_BUILD_CACHE or pytest's cache (minutes uncached).
test-cuda-build: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[cuda]'
	$(PY) -m pytest -m cuda_build $(PYTEST_ARGS)

# The report's browser check: Debian's chromium (installed when missing; as root) and playwright.
browser: $(STAMP)
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; }
	$(PY) -m pip install --quiet -c constraints.txt -e '.[browser]'

# Opens `biosnn report`'s page in headless chromium: images decoded, no console error, sortable tables;
# a screenshot goes to pytest's tmp directory (and to $$BIOSNN_SCREENSHOT when set).
test-browser: $(STAMP) browser
	$(PY) -m pytest -m browser $(PYTEST_ARGS)

# Everything; cuda tests skip without brian2cuda and a GPU.
test-all: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# Speed as ratios against peers measured in the same run (benchmarks/results/*.json and *.md).
bench: $(STAMP)
	# peers only (norse's own requirements would replace the pinned torch: --no-deps); spikingjelly 2.0
	# shares its package name with the 0.0.0.0.14 oracle, so it lives in a directory of its own
	$(PY) -m pip install --quiet --no-deps snntorch==1.0.0 norse==1.1.0 nir==1.0.8 nirtorch==2.6
	$(PY) -m pip install --quiet --no-deps --upgrade --target $(VENV)/peers/spikingjelly-2.0.0 spikingjelly==2.0.0 loguru==0.7.3
	$(PY) benchmarks/bench_training.py --steps 100 --networks lif plif delay gamma --tag T100
	$(PY) benchmarks/bench_training.py --steps 1000 --networks lif --rounds 2 --repeats 3 --tag T1000
	$(PY) benchmarks/bench_brian_eval.py
	$(PY) benchmarks/bench_normalize.py
	$(PY) benchmarks/bench_noise.py

# Cost against network size (1k .. 1M neurons) and steps, both backends, and its figure (about 5 minutes).
bench-scaling: $(STAMP)
	$(PY) benchmarks/bench_scaling.py
	$(PY) -m biosnn.reporting.figures.fig_scaling --results benchmarks/results --out benchmarks/results

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .hypothesis
