#!/usr/bin/env bash
# Make a stand-in for the python:3.11-slim base image on a machine that reaches Debian's package
# mirror but no image registry: debootstrap a minimal Debian bookworm root with Python 3.11 (+ venv,
# pip, CA certificates), then import it into podman (or docker) as localhost/python:3.11-slim.
# Usage: scripts/make_base_image.sh [TAG]   (run as root; needs debootstrap and podman or docker,
# which it apt-installs when missing). Build with: podman build --build-arg BASE=TAG .
set -euo pipefail

TAG="${1:-localhost/python:3.11-slim}"
SUITE="${DEBIAN_SUITE:-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [ "$(id -u)" != 0 ]; then
  echo "make_base_image.sh: run as root (debootstrap needs it)" >&2; exit 2
fi
missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v podman >/dev/null || command -v docker >/dev/null || missing+=(podman)
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q "${missing[@]}"
fi
. "$(dirname "$0")/engine.sh"
[ -n "$ENGINE" ] || { echo "make_base_image.sh: neither podman nor a running docker engine" >&2; exit 2; }

ROOTFS="$(mktemp -d /tmp/cvlab-base.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT
echo "debootstrap $SUITE into $ROOTFS (a few minutes)"
debootstrap --variant=minbase \
  --include=python3,python3-venv,python3-pip,ca-certificates,passwd \
  "$SUITE" "$ROOTFS" "$MIRROR" >/dev/null

# Trust what this host trusts: a TLS-inspecting proxy's CA (in /usr/local/share/ca-certificates)
# is needed for pip and npm inside the build. Nothing is added where the host has no extra CA.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
  chroot "$ROOTFS" update-ca-certificates >/dev/null
fi
# Like the official image: `python` on PATH, UTF-8, no package lists or caches kept.
ln -sf /usr/bin/python3 "$ROOTFS/usr/local/bin/python"
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/log/*.log \
       "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/*

tar -C "$ROOTFS" --numeric-owner -c . | "$ENGINE" import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' - "$TAG" >/dev/null
engine_probe "$TAG"
"$ENGINE" "${ENGINE_G[@]}" run --rm "${ENGINE_L[@]}" "$TAG" python3 -c 'import sys, venv, ensurepip; print("base image ok:", sys.version.split()[0])'
"$ENGINE" image ls "$TAG"
