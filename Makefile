# Dark Axion Portal Explorer — developer commands.
# Every target creates/uses the local virtual environment .venv and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 5006
# serving a room (make serve-lan): server processes and callback threads (see README, Serving, for measurements)
PROCS  ?= 1
THREADS ?=

.PHONY: venv serve serve-lan test bench precompute clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# The dashboard on this machine only: binds 127.0.0.1, websocket origins localhost:PORT and 127.0.0.1:PORT,
# signed session ids with a new random secret at each start (the rules live in dashboard/serve.py).
serve: $(STAMP)
	$(BIN)/python -m dashboard.serve --port '$(PORT)'

# Serving a room: all interfaces (or BIND=<one IPv4 address>), but only pages from http://HOST:PORT may open
# a session (signed ids). HOST = this machine's host name or IPv4 address as the audience types it.
serve-lan: $(STAMP)
	$(if $(strip $(HOST)),,$(error make serve-lan needs HOST=<this machine's host name or IPv4 address as typed in the browser>, e.g. make serve-lan HOST=192.168.1.20 PORT=5006))
	$(BIN)/python -m dashboard.serve --lan '$(HOST)' --port '$(PORT)'$(if $(strip $(BIND)), --bind '$(BIND)') --num-procs '$(PROCS)'$(if $(strip $(THREADS)), --num-threads '$(THREADS)')

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

precompute: $(STAMP)
	for e in na64e-2023 ldmx-phase2; do $(BIN)/python -m physics precompute --experiment $$e --fresh --check-midpoints; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
