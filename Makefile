# The two commands of the README: `make demo` and `make test`. Both set everything up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lab install clean default-model

# (re)install when the venv is missing or pyproject.toml changed; the notebooks' "python3" kernel
# (`make lab`) is then this venv's python, whatever other kernels the machine has
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (slowfast-edu)"
	touch $(STAMP)

install: $(STAMP)

# the notebooks too, in smoke mode, with a kernel of this venv's python (--nbval-current-env)
test: $(STAMP)
	SLOWFAST_EDU_SMOKE=1 $(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env

demo: $(STAMP)
	$(BIN)/slowfast-edu demo

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# Rebuild the embedded default model: the synthetic set, the committed config and seed, export.
default-model: $(STAMP)
	$(BIN)/slowfast-edu data synthetic --out data/synthetic
	$(BIN)/slowfast-edu train configs/synthetic_tiny_cpu.yaml --out runs/default_model
	$(BIN)/slowfast-edu export runs/default_model/best.pt --out slowfast_edu/assets/default_model.pt

clean:
	rm -rf $(VENV) .pytest_cache
