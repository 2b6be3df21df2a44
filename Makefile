# The two commands that do everything on a fresh machine:
#   make run   -> creates .venv, installs HyperPilot, runs the default study (< 3 min)
#   make test  -> creates .venv, installs HyperPilot with the dev extras, runs the tests
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch==2.13.0 is installed first: on the reference machines it is a local CPU wheel, while any
# other torch request downloads a multi-GB CUDA build. Override with `make TORCH_PIN=torch ...`.
TORCH_PIN ?= torch==2.13.0
EXTRAS_RUN := bench
EXTRAS_TEST := dev,bench,rl,box2d,peers,dist,paper,tfp,rlzoo,dashboard,trackers
# glibc backs large blocks with transparent huge pages: ~30x fewer page faults from torch's big
# temporaries, ~6% less CPU per bench cell, identical results (hyperpilot.executor.huge_page_malloc)
export GLIBC_TUNABLES ?= glibc.malloc.hugetlb=1

.PHONY: run test test-ray lint typecheck bench clean paper

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH_PIN)"

# constraints.txt pins the versions the committed results ran with (see the file)
$(VENV)/.installed-run: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e ".[$(EXTRAS_RUN)]"
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e ".[$(EXTRAS_TEST)]"
	# DEHB 0.1.2 declares numpy<2 but runs with numpy 2; --no-deps keeps pip from downgrading numpy
	$(BIN)/pip install -q --no-deps "dehb==0.1.2"
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	OMP_NUM_THREADS=1 $(BIN)/python -m hyperpilot

test: $(VENV)/.installed-test
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

# The Ray tests start a real local Ray head (2 CPUs); they are marked slow, so `make test` skips them.
test-ray: $(VENV)/.installed-test
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m ray

lint: $(VENV)/.installed-test
	$(BIN)/ruff check hyperpilot surrogates acquisition fidelity tests
	$(BIN)/mypy

bench: $(VENV)/.installed-test
	OMP_NUM_THREADS=1 $(BIN)/python -m hyperpilot.bench run

clean:
	rm -rf $(VENV)

paper: $(VENV)/.installed-test
	bash paper/build.sh
