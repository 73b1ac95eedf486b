# Sourced by scripts/make_base_image.sh and scripts/space_check.sh: picks the container engine and
# the flags that let it run containers on this machine.
#   ENGINE      podman (preferred: no daemon) or docker
#   ENGINE_G    global flags, before the subcommand (e.g. --runtime runc)
#   ENGINE_L    flags for `run` and `build` (rlimits)
# Inside some VMs the default OCI runtime cannot set up a container ("setrlimit RLIMIT_NOFILE:
# Operation not permitted", "cgroups in hybrid mode not supported"); runc with explicit rlimits no
# higher than this shell's hard limits works there, so those flags are used when a plain `run` fails.
if command -v podman >/dev/null; then ENGINE=podman
elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then ENGINE=docker
else ENGINE=""; fi
ENGINE_G=()
ENGINE_L=()

engine_probe() {  # engine_probe IMAGE: set ENGINE_G / ENGINE_L so that running IMAGE works
  local image="$1" nofile nproc
  "$ENGINE" run --rm "$image" true >/dev/null 2>&1 && return 0
  nofile="$(ulimit -Hn)"; [ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ] && nofile=65536
  nproc="$(ulimit -Hu)"; [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
  ENGINE_L=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
  if [ "$ENGINE" = podman ] && command -v runc >/dev/null; then ENGINE_G=(--runtime runc); fi
  "$ENGINE" "${ENGINE_G[@]}" run --rm "${ENGINE_L[@]}" "$image" true >/dev/null 2>&1 && return 0
  echo "cannot run a container with $ENGINE here (on podman: apt-get install runc)" >&2
  "$ENGINE" "${ENGINE_G[@]}" run --rm "${ENGINE_L[@]}" "$image" true
  return 1
}
