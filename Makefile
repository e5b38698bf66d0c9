# Dark Axion Portal Explorer — developer commands.
# Every target creates/uses the local virtual environment .venv and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv serve test bench precompute clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

serve: $(STAMP)
	$(BIN)/panel serve app.py --port $${PORT:-5006} --allow-websocket-origin='*' --num-procs 1

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

precompute: $(STAMP)
	for e in na64e-2023 ldmx-phase2; do $(BIN)/python -m physics precompute --experiment $$e --fresh --check-midpoints; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
