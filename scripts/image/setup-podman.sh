#!/usr/bin/env bash
# Makes Debian's podman (with runc) able to build and run images on a machine without a Docker engine.
# Idempotent: installs what is missing and writes /etc/containers/containers.conf only when it differs.
#   default_ulimits = []       the sandbox refuses the nofile ulimit podman would otherwise set
#   cgroup_manager = cgroupfs  there is no systemd to delegate cgroups to
#   runtime = runc             Debian's default crun is not installed; runc works here
set -euo pipefail

packages=()
command -v podman >/dev/null || packages+=(podman)
command -v runc >/dev/null || packages+=(runc)
command -v newuidmap >/dev/null || packages+=(uidmap)
command -v slirp4netns >/dev/null || packages+=(slirp4netns)
command -v fuse-overlayfs >/dev/null || packages+=(fuse-overlayfs)
command -v debootstrap >/dev/null || packages+=(debootstrap)
command -v curl >/dev/null || packages+=(curl)

if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "test:image needs root and apt-get to install: ${packages[*]}" >&2
    exit 1
  fi
  echo "installing: ${packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

conf=/etc/containers/containers.conf
wanted='# Written by ml-inference scripts/image/setup-podman.sh
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"'
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$wanted" ]; then
  mkdir -p /etc/containers
  [ -f "$conf" ] && cp "$conf" "$conf.before-ml-inference"
  printf '%s\n' "$wanted" >"$conf"
  echo "wrote $conf"
fi
