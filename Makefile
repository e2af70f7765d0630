# The two commands of the README: `make demo` and `make test`. Both set everything up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lab install clean default-model

# (re)install when the venv is missing or pyproject.toml changed
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/slowfast-edu info slowfast_8x8_r50

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# Rebuild the embedded default model: the synthetic set, the committed config and seed, export.
default-model: $(STAMP)
	$(BIN)/slowfast-edu data synthetic --out data/synthetic
	$(BIN)/slowfast-edu train configs/synthetic_tiny_cpu.yaml --out runs/default_model
	$(BIN)/slowfast-edu export runs/default_model/best.pt --out slowfast_edu/assets/default_model.pt

clean:
	rm -rf $(VENV) .pytest_cache
