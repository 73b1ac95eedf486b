#!/usr/bin/env bash
# `make space`: prove the Space image from a clean clone of this checkout's committed HEAD. Builds the
# image (podman, or docker with a running engine), runs it, waits for the page, calls the /models
# API endpoint, stops the container with SIGTERM and prints the image size and the stop time.
# Fails (exit 1) when any step fails, the image is over MAX_IMAGE_GB or the stop takes over 2 s.
#
# Environment: BASE (default python:3.11-slim, else the local stand-in localhost/python:3.11-slim made
# by scripts/make_base_image.sh), PREFETCH_DOWNLOADABLE (default 1), PORT (7862), TAG, MAX_IMAGE_GB
# (2.5), CPU_TORCH_WHEEL (a CPU torch wheel used when the PyTorch CPU index is out of reach; default:
# the first /opt/wheels/torch-*+cpu-cp311-*.whl), KEEP_IMAGE=1 to keep the image afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/scripts/engine.sh"
[ -n "$ENGINE" ] || { echo "space_check: neither podman nor a running docker engine here" >&2; exit 2; }

TAG="${TAG:-localhost/cvlab-space:check}"
PORT="${PORT:-7862}"
MAX_IMAGE_GB="${MAX_IMAGE_GB:-2.5}"
if [ -z "${BASE:-}" ]; then
  BASE=python:3.11-slim
  "$ENGINE" image exists "$BASE" 2>/dev/null || "$ENGINE" pull -q "$BASE" >/dev/null 2>&1 \
    || BASE=localhost/python:3.11-slim
fi
"$ENGINE" image inspect "$BASE" >/dev/null 2>&1 \
  || { echo "space_check: no base image $BASE (make one with scripts/make_base_image.sh)" >&2; exit 2; }
engine_probe "$BASE"

WORK="$(mktemp -d /tmp/cvlab-space.XXXXXX)"
CID=""
cleanup() {
  [ -n "$CID" ] && "$ENGINE" "${ENGINE_G[@]}" rm -f "$CID" >/dev/null 2>&1
  [ "${KEEP_IMAGE:-0}" = 1 ] || "$ENGINE" rmi -f "$TAG" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
git clone -q "$ROOT" "$WORK/src"
echo "space_check: clean clone of $(git -C "$WORK/src" log -1 --format='%h %s' | cut -c1-70)"

# torch: the PyTorch CPU index when reachable, else a CPU wheel from this machine.
TORCH_ARGS=()
if ! curl -sf -m 15 -o /dev/null https://download.pytorch.org/whl/cpu/torch/; then
  wheel="${CPU_TORCH_WHEEL:-$(ls /opt/wheels/torch-*+cpu-cp311-*.whl 2>/dev/null | head -n 1)}"
  [ -f "$wheel" ] || { echo "space_check: PyTorch's CPU index is out of reach and no CPU_TORCH_WHEEL" >&2; exit 2; }
  cp "$wheel" "$WORK/src/docker/wheels/"
  version="$(basename "$wheel" | cut -d- -f2)"
  TORCH_ARGS=(--build-arg TORCH_INDEX= --build-arg "TORCH=torch==$version")
  echo "space_check: PyTorch's CPU index is out of reach: torch $version from $wheel, torchvision from PyPI"
fi

t0=$(date +%s)
"$ENGINE" "${ENGINE_G[@]}" build "${ENGINE_L[@]}" --build-arg "BASE=$BASE" "${TORCH_ARGS[@]}" \
  --build-arg "PREFETCH_DOWNLOADABLE=${PREFETCH_DOWNLOADABLE:-1}" -t "$TAG" "$WORK/src"
build_s=$(( $(date +%s) - t0 ))
size_b="$("$ENGINE" image inspect --format '{{.Size}}' "$TAG")"

CID="$("$ENGINE" "${ENGINE_G[@]}" run -d "${ENGINE_L[@]}" -p "127.0.0.1:$PORT:7860" "$TAG")"
t0=$(date +%s)
until curl -sf -m 5 -o /dev/null "http://127.0.0.1:$PORT/"; do
  if [ "$("$ENGINE" "${ENGINE_G[@]}" inspect -f '{{.State.Running}}' "$CID")" != true ] || [ $(( $(date +%s) - t0 )) -gt 600 ]; then
    echo "space_check: the page never came up; the container's log:" >&2
    "$ENGINE" "${ENGINE_G[@]}" logs "$CID" 2>&1 | tail -n 30 >&2; exit 1
  fi
  sleep 1
done
page_s=$(( $(date +%s) - t0 ))

# One API call through Gradio's REST route: /models returns the model table with each status.
event="$(curl -sf -m 30 -H 'Content-Type: application/json' -d '{"data": []}' \
  "http://127.0.0.1:$PORT/gradio_api/call/models" | python3 -c 'import json, sys; print(json.load(sys.stdin)["event_id"])')"
models="$(curl -sf -m 120 "http://127.0.0.1:$PORT/gradio_api/call/models/$event" | python3 "$ROOT/scripts/models_summary.py")"

# SIGTERM, as `stop` sends it; the stop time runs from just before the signal is sent to the
# container's exit as the engine recorded it (so the engine's own clean-up after the exit is not counted).
t0=$(date +%s.%N)
"$ENGINE" "${ENGINE_G[@]}" kill --signal TERM "$CID" >/dev/null
timeout 30 "$ENGINE" "${ENGINE_G[@]}" wait "$CID" >/dev/null || "$ENGINE" "${ENGINE_G[@]}" kill "$CID" >/dev/null
# podman's FinishedAt is a Go time (UnixNano works); docker's is an RFC 3339 string
finished="$("$ENGINE" "${ENGINE_G[@]}" inspect -f '{{.State.FinishedAt.UnixNano}}' "$CID" 2>/dev/null \
  || "$ENGINE" inspect -f '{{.State.FinishedAt}}' "$CID")"
code="$("$ENGINE" "${ENGINE_G[@]}" inspect -f '{{.State.ExitCode}}' "$CID")"
# when the app itself got the signal: its log line's time stamp (UTC, milliseconds)
received="$("$ENGINE" "${ENGINE_G[@]}" logs "$CID" 2>&1 | grep 'SIGTERM received' | tail -n 1 | cut -c1-23)"
load="$(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$size_b" "$build_s" "$page_s" "$finished" "$t0" "$code" "$MAX_IMAGE_GB" "$models" "$received" \
  "$load" <<'EOF'
import re, sys
from datetime import datetime, timezone
size_b, build_s, page_s, finished, t0, code, max_gb, models, received, load = sys.argv[1:]
if not finished.isdigit():  # RFC 3339 with nanoseconds: fromisoformat takes microseconds
    stamp = re.sub(r"(\.\d{6})\d*", r"\1", finished).replace("Z", "+00:00")
    finished = str(int(datetime.fromisoformat(stamp).timestamp() * 1e9))
end = int(finished) / 1e9
stop_s = end - float(t0)
try:
    got = datetime.strptime(received, "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=timezone.utc).timestamp()
    app_s = end - got
except ValueError:  # no time-stamped log line: the signal came before logging was set up
    app_s = float("nan")
gb = int(size_b) / 1e9
print(f"image size: {gb:.2f} GB (limit {max_gb})\nbuild: {build_s} s, page served after {page_s} s")
print(f"/models: {models}")
print(f"stop on SIGTERM: {app_s:.2f} s from the app's receipt of the signal to its exit, {stop_s:.2f} s from the "
      f"kill command (engine's delivery included); exit code {code}; load average {load}")
bad = [m for m, ok in ((f"image over {max_gb} GB", gb <= float(max_gb)),
                       ("the app took over 2 s to stop", app_s <= 2.0),
                       ("the app did not exit cleanly", code == "0")) if not ok]
print("space_check:", "FAILED: " + "; ".join(bad) if bad else "ok")
sys.exit(1 if bad else 0)
EOF
