# BoneRead: `make demo` runs the product on the embedded default, `make test` runs every check.
# Both do their own set-up on a fresh machine (virtualenv, pip, npm, frontend build, migrations).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: demo test setup python frontend system-deps lint format clean

demo: setup
	$(PY) scripts/demo.py

test: setup system-deps
	bash scripts/test.sh

setup: python frontend

python: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-nnunet.txt ml/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	# nnU-Net (the experiment's peer) without its CUDA torchvision: see requirements-nnunet.txt
	$(PIP) install --quiet --no-deps -r requirements-nnunet.txt
	touch $@

frontend: frontend/dist/index.html

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/tsconfig*.json -type f 2>/dev/null)
	cd frontend && npm run build

# Debian packages the browser tests and the DICOM tests need (Chromium, CJK fonts, dcmtk).
system-deps:
	bash scripts/system-deps.sh

lint: python
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: python
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf var frontend/dist
