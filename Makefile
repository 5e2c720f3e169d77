# The two commands a newcomer needs: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEBS    := lrzsz telnet postgresql haproxy fonts-dejavu-core tesseract-ocr tesseract-ocr-fra \
	   chromium chromium-driver curl openssh-client
DB      ?= sqlite:///var/bbs.db
PORT    ?= 2323
FAX_PORT ?= 2324
WEB_PORT ?= 8080
FTP_PORT ?= 2121
SSH_PORT ?= 2222
MINITEL_PORT ?= 3616
HOST    ?= 127.0.0.1

.PHONY: setup debs run test lint bench clean

setup: debs $(STAMP)

# Debian packages the tests need, installed only when missing and only as root.
debs:
	@missing=""; \
	command -v sz >/dev/null 2>&1 || missing="$$missing lrzsz"; \
	command -v telnet >/dev/null 2>&1 || missing="$$missing telnet"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	{ command -v haproxy || test -x /usr/sbin/haproxy; } >/dev/null 2>&1 || missing="$$missing haproxy"; \
	test -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf || missing="$$missing fonts-dejavu-core"; \
	command -v tesseract >/dev/null 2>&1 || missing="$$missing tesseract-ocr"; \
	ls /usr/share/tesseract-ocr/*/tessdata/fra.traineddata >/dev/null 2>&1 || missing="$$missing tesseract-ocr-fra"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	command -v curl >/dev/null 2>&1 || missing="$$missing curl"; \
	command -v ssh >/dev/null 2>&1 || missing="$$missing openssh-client"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian packages:$$missing"; \
			(apt-get install -y -q $$missing >/dev/null 2>&1 || \
			 (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null)) \
			|| { echo "apt-get install$$missing failed"; exit 1; }; \
		else \
			echo "missing Debian packages:$$missing (run 'sudo make setup' or install them)"; \
		fi; \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip >/dev/null
	$(BIN)/pip install -q -e '.[test]'
	@touch $(STAMP)

run: setup
	@mkdir -p var
	$(BIN)/bbs db upgrade --db $(DB)
	$(BIN)/bbs load data --db $(DB)
	BBS_FAX_PORT=$(FAX_PORT) BBS_SSH_PORT=$(SSH_PORT) BBS_MINITEL_PORT=$(MINITEL_PORT) \
		$(BIN)/bbs serve --host $(HOST) --port $(PORT) \
		--web-port $(WEB_PORT) --ftp-port $(FTP_PORT) --db $(DB)

test: setup
	$(BIN)/ruff check bbs tests bench
	$(BIN)/ruff format --check bbs tests bench
	$(BIN)/mypy --strict bbs
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check --fix bbs tests bench
	$(BIN)/ruff format bbs tests bench
	$(BIN)/mypy --strict bbs

bench: setup
	$(BIN)/python -m bench
	$(BIN)/python -m bench.ssh
	$(BIN)/python -m bench.web

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache

# The fault tests' long version: SOAK_ROUNDS kills of a node per database (200 by default).
.PHONY: soak
soak: setup
	SOAK_ROUNDS=$${SOAK_ROUNDS:-200} $(BIN)/pytest -q -p no:cacheprovider -rP tests/faults

# The hostile suite's fuzz targets at length: FUZZ_EXAMPLES examples each (20 000 by
# default), randomised; `make test` runs the same targets with a couple hundred.
.PHONY: fuzz
fuzz: setup
	HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-20000} $(BIN)/pytest -q -p no:cacheprovider \
		-o timeout=0 --hypothesis-show-statistics tests/hostile/test_fuzz.py
