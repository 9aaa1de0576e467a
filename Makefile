# Local Offer: two commands on a fresh machine.
#   make run    install everything, migrate, load content, serve on http://127.0.0.1:$(PORT)
#   make test   install what the tests need (Debian's chromium included) and run the suite
# Each step leaves a stamp in .make/ so a second run only redoes what changed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .make
PORT ?= 5000
DEMO ?= 1
HOST ?= 127.0.0.1
PYTEST_ARGS ?=
export FLASK_APP := local_offer

SCSS := $(wildcard static/scss/*.scss)
PO_FILES := $(wildcard translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test install assets openmoji translations migrate gazetteer content chromium wrk bench clean help

help:
	@echo "make run [PORT=5000] [DEMO=0]   install, migrate, load content and serve the site"
	@echo "make test                       install test tools (chromium too) and run every test"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMPS)/install: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/install-test: pyproject.toml $(STAMPS)/install
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@mkdir -p $(STAMPS) && touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

static/dist/local-offer.css: $(SCSS) postcss.config.cjs node_modules/.package-lock.json
	@mkdir -p static/dist
	npm run --silent build:css

# Front-end files served as they are, copied from the pinned npm packages.
VENDORED := static/dist/govuk-frontend.min.js static/dist/leaflet.js static/dist/leaflet.css
static/dist/govuk-frontend.min.js: node_modules/.package-lock.json
	@mkdir -p static/dist && cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $@
static/dist/leaflet.%: node_modules/.package-lock.json
	@mkdir -p static/dist && cp node_modules/leaflet/dist/leaflet.$* $@

# Easy Read pictures: exactly the OpenMoji SVGs (CC BY-SA 4.0) that content/pages/easy-read/*.md name
# on their `[HEXCODE] Sentence` lines; any other SVG left in static/dist/openmoji is removed.
EASY_READ := $(wildcard content/pages/easy-read/*.md)
OPENMOJI := $(sort $(patsubst %,static/dist/openmoji/%.svg,$(shell sed -n 's/^[[:space:]]*\[\([0-9A-F][0-9A-F-]*\)\][[:space:]].*/\1/p' $(EASY_READ) /dev/null)))
static/dist/openmoji/%.svg: node_modules/.package-lock.json
	@mkdir -p static/dist/openmoji && cp node_modules/openmoji/color/svg/$*.svg $@
openmoji: $(OPENMOJI)
	@mkdir -p static/dist/openmoji; for file in static/dist/openmoji/*; do \
		case " $(OPENMOJI) " in *" $$file "*) ;; *) rm -f "$$file" ;; esac; done

assets: static/dist/local-offer.css $(VENDORED) openmoji

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(STAMPS)/install
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

translations: $(MO_FILES)

install: $(STAMPS)/install assets translations

migrate: install
	$(BIN)/flask db upgrade

gazetteer: migrate
	$(BIN)/flask geo build

content: gazetteer
	$(BIN)/flask content load $(if $(filter 0,$(DEMO)),--no-demo,--demo)
	$(BIN)/flask index ensure
	$(BIN)/flask compile-templates

# Emailed links (password resets, invitations) point at the address `make run` serves; the site
# refuses to start without a public address outside tests. Set LOCAL_OFFER_PUBLIC_URL to change it.
migrate gazetteer content run: export LOCAL_OFFER_PUBLIC_URL ?= http://$(HOST):$(PORT)

# Plain http on a laptop: the session cookie cannot be Secure-only here.
run: content
	LOCAL_OFFER_SESSION_COOKIE_SECURE=false LOCAL_OFFER_REMEMBER_COOKIE_SECURE=false \
		$(BIN)/flask run --host $(HOST) --port $(PORT)

# Debian's chromium drives the browser tests. Install it when missing; fail loudly if we cannot.
chromium:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	echo "Installing Debian's chromium for the browser tests..."; \
	SUDO=""; if [ "$$(id -u)" != "0" ]; then SUDO="sudo"; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium \
	|| { echo "ERROR: could not install Debian's chromium (apt-get install chromium). The browser tests need /usr/bin/chromium." >&2; exit 1; }; \
	[ -x /usr/bin/chromium ] || { echo "ERROR: /usr/bin/chromium is still missing after installing." >&2; exit 1; }

# Debian's wrk sends the load in bench/load.py.
wrk:
	@if command -v wrk >/dev/null; then exit 0; fi; \
	SUDO=""; if [ "$$(id -u)" != "0" ]; then SUDO="sudo"; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk \
	|| { echo "ERROR: could not install Debian's wrk (apt-get install wrk), which bench/load.py needs." >&2; exit 1; }

test: $(STAMPS)/install-test assets translations chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks (not part of the tests): search for a large council and a region; a 100,000-row CSV import dry run;
# search under gunicorn while imports and the portal publish (needs PostgreSQL and Redis on 127.0.0.1);
# relevance on the frozen held-out judged sets and, separately, the tuning sets (bench/relevance/);
# bytes each public page transfers in Chromium, and requests a second against a bare GOV.UK Frontend page.
bench: $(STAMPS)/install-test assets translations chromium wrk
	$(BIN)/python bench/search.py --count 5000
	$(BIN)/python bench/search.py --count 50000
	$(BIN)/python bench/imports.py --rows 100000
	$(BIN)/python bench/concurrency.py --seconds 60 --workers 2
	$(BIN)/python bench/relevance.py --set all
	$(BIN)/python bench/relevance.py --set tuning
	$(BIN)/python bench/page_weight.py
	$(BIN)/python bench/load.py --count 5000 --seconds 20 --workers 2

clean:
	rm -rf $(STAMPS) static/dist $(MO_FILES)
