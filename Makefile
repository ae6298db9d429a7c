# hssync — every target sets itself up: a fresh clone needs only python3 (3.11+) and make.
PYTHON ?= python3
export SAM_CLI_TELEMETRY := 0
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,sys;print(hashlib.sha1(open('pyproject.toml','rb').read()).hexdigest()[:12])")

.PHONY: setup browser lint iac typecheck unit integration test-sandbox test-runtime e2e test demo bench sandbox validate layer-requirements build clean console-screenshot

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "hssync needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# the console's browser test drives the distribution's Chromium through Playwright (nothing is
# downloaded at run time): installed with apt-get when missing (as root, or through sudo)
CHROMIUM := $(firstword $(HSSYNC_CHROMIUM) $(shell command -v chromium chromium-browser 2>/dev/null))

browser:
	@if [ -n "$(CHROMIUM)" ] && [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	else echo "the console test needs Chromium: run 'apt-get install -y chromium' as root" >&2; exit 1; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# static checks of template.yaml: cfn-lint, and checkov with the justified skips of .checkov.yaml and
# of the template's Metadata. checkov pins boto3, urllib3 and packaging older than the project's, so it
# lives in a virtualenv of its own (.venv/iac) with the [iac] extra of pyproject.toml.
IAC_VENV  := $(VENV)/iac
IAC_STAMP := $(IAC_VENV)/$(notdir $(STAMP))

$(IAC_STAMP): pyproject.toml
	@test -x $(IAC_VENV)/bin/python || $(PYTHON) -m venv $(IAC_VENV)
	$(IAC_VENV)/bin/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["iac"]))' > $(IAC_VENV)/requirements.txt
	$(IAC_VENV)/bin/python -m pip install --quiet -r $(IAC_VENV)/requirements.txt
	@rm -f $(IAC_VENV)/.installed-*
	@touch $@

iac: setup $(IAC_STAMP)
	$(BIN)/cfn-lint template.yaml
	$(IAC_VENV)/bin/checkov --config-file .checkov.yaml

typecheck: setup
	$(BIN)/mypy shared infra functions tests bench

unit: setup
	$(BIN)/pytest tests/unit -q

integration: setup
	$(BIN)/pytest tests/integration -q -n 2

# the emulators of both CRMs (infra/sandbox) and the local Lambda runtime (infra/runtime)
test-sandbox: setup
	$(BIN)/pytest tests/sandbox -q -n 2

test-runtime: setup
	$(BIN)/pytest tests/runtime -q -n 2

e2e: setup browser
	$(BIN)/pytest tests/e2e -q -n 2

test: lint iac typecheck browser
	$(BIN)/pytest -q -n 2

# the README's picture of the console (docs/console.png), taken by its browser test
console-screenshot: setup browser
	HSSYNC_SCREENSHOT=$(CURDIR)/docs/console.png $(BIN)/pytest tests/e2e/test_operations_console.py -q

demo: setup
	$(BIN)/hssync demo

bench: setup
	$(BIN)/python -m bench

sandbox: setup
	$(BIN)/hssync sandbox up --seed demo

validate: setup
	$(BIN)/sam validate --lint --template template.yaml --region us-east-1

# layer/requirements.txt is generated from the pinned [project] dependencies of pyproject.toml.
layer-requirements: setup
	$(BIN)/python -m infra.layer_requirements

# sam build needs python3.13 on PATH (the Lambda runtime); with pyenv, 3.13 is selected next to the
# default Python. The shared layer is built by layer/Makefile (arm64 wheels from PyPI).
PY313 := $(shell command -v pyenv >/dev/null 2>&1 && pyenv versions --bare 2>/dev/null | grep '^3\.13' | head -1)
build: setup
	$(BIN)/python -m infra.layer_requirements --check
	$(if $(PY313),PYENV_VERSION=$(PY313):$$(pyenv version-name 2>/dev/null | cut -d: -f1),) $(BIN)/sam build --region us-east-1

clean:
	rm -rf $(VENV) .hssync .aws-sam .mypy_cache .ruff_cache .pytest_cache
