#!/usr/bin/env bash
# `npm run test:image`: builds the real Dockerfile with podman and runs the image the way users and Kubernetes
# will, then reports its size. No Docker engine or image registry is needed: scripts/image/build-base.sh builds
# stand-ins for the base images (cached between runs). All traffic stays on 127.0.0.1: the containers share the
# host's network namespace and the server binds loopback only.
#
#   IMAGE=localhost/ml-inference:test   tag to build
#   IMAGE_MAX_MB=200                    fail above this size (the README's "Image size" has the breakdown)
set -euo pipefail
cd "$(dirname "$0")/../.."

image=${IMAGE:-localhost/ml-inference:test}
max_mb=${IMAGE_MAX_MB:-200}
key='image-test-key-0123456789abcdef'
run_id=ml-inference-test-$$
passed=0
failed=0
t0=$SECONDS

pass() { passed=$((passed + 1)); echo "  ok   $*"; }
fail() { failed=$((failed + 1)); echo "  FAIL $*" >&2; }
check() { # check "description" command...
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
containers=()
cleanup() {
  for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
  podman volume rm -f "$run_id-data" >/dev/null 2>&1 || true
  rm -rf "${build_tmp:-}"
}
trap cleanup EXIT

echo "== podman"
bash scripts/image/setup-podman.sh

echo "== base images"
bash scripts/image/build-base.sh

echo "== build $image"
# Behind a TLS-intercepting proxy (as on this machine) npm inside the build needs the host's CA bundle: hand it
# in as a mounted npmrc for the build only; nothing of it ends up in the image.
build_tmp=$(mktemp -d)
volumes=()
cafile=$(npm config get cafile 2>/dev/null || true)
if [ -n "$cafile" ] && [ "$cafile" != null ] && [ -f "$cafile" ]; then
  printf 'cafile=/run/host-ca.crt\n' >"$build_tmp/npmrc"
  volumes+=(-v "$cafile:/run/host-ca.crt:ro" -v "$build_tmp/npmrc:/root/.npmrc:ro")
fi
start=$SECONDS
podman build --pull=never --network=host --format docker "${volumes[@]}" \
  --build-arg VERSION="$(node -p 'require("./package.json").version')" \
  --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  -t "$image" . >"$build_tmp/build.log" 2>&1 || { tail -n 40 "$build_tmp/build.log" >&2; exit 1; }
echo "  built in $((SECONDS - start)) s"

echo "== run"
start=$SECONDS
port=$(free_port)
grpc_port=$(free_port)
base=http://127.0.0.1:$port
name=$run_id-api
containers+=("$name")
# podman complains on stderr that it cannot hand the HEALTHCHECK to systemd timers; `podman healthcheck run`
# below runs it by hand instead.
# What Kubernetes does with the chart's security context: read-only root, writable /tmp and data volume only.
podman run -d --name "$name" --network=host --read-only --tmpfs /tmp:rw,size=64m \
  -v "$run_id-data:/app/data" -e PORT="$port" -e GRPC_PORT="$grpc_port" -e HOST=127.0.0.1 -e API_KEYS="$key" \
  -e INFERENCE_WORKERS=1 "$image" >/dev/null 2>"$build_tmp/run.log" || { cat "$build_tmp/run.log" >&2; exit 1; }

ready=0
for _ in $(seq 1 120); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/ready")" = 200 ]; then ready=1; break; fi
  if [ "$(podman inspect -f '{{.State.Running}}' "$name")" != true ]; then break; fi
  sleep 0.5
done
if [ $ready = 0 ]; then
  podman logs "$name" 2>&1 | tail -n 30 >&2
  fail "the server became ready"
  exit 1
fi
pass "ready $((SECONDS - start)) s after start"

uid=$(podman exec "$name" node -e 'process.stdout.write(require("fs").readFileSync("/proc/1/status","utf8").match(/^Uid:\s+(\d+)/m)[1])')
check "the server runs as UID $uid, not root" test "$uid" = 10001
check "image user is numeric 10001:10001" test "$(podman image inspect -f '{{.Config.User}}' "$image")" = 10001:10001
check "GET /health answers 200" test "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")" = 200
check "GET /ready answers 200" test "$(curl -s -o /dev/null -w '%{http_code}' "$base/ready")" = 200
answer=$(curl -s -H 'content-type: application/json' -H "authorization: Bearer $key" \
  -d '{"features":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0]}' "$base/predict")
check "POST /predict answers with a prediction from the baked-in model ($answer)" \
  node -e 'const a=JSON.parse(process.argv[1]); process.exit(a.model==="seed_gbc" && "prediction" in a ? 0 : 1)' "$answer"
check "POST /predict without the API key is refused with 401" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' -d '{"features":[1]}' "$base/predict")" = 401
check "GET /metrics serves Prometheus text" bash -c "curl -s '$base/metrics' | grep -q '^http_requests_total'"
check "the HEALTHCHECK (node, no shell tools) passes" podman healthcheck run "$name"
grpc_serving() { # the standard gRPC health check from the host, with the repository's grpc-js
  node -e '
const grpc = require("@grpc/grpc-js");
const { protoPath } = require("grpc-health-check");
const definition = require("@grpc/proto-loader").loadSync(protoPath, { enums: String });
const Health = grpc.loadPackageDefinition(definition).grpc.health.v1.Health;
new Health(process.argv[1], grpc.credentials.createInsecure()).Check({ service: "" }, { deadline: Date.now() + 3000 },
  (error, answer) => process.exit(!error && answer.status === "SERVING" ? 0 : 1));' "127.0.0.1:$grpc_port"
}
check "gRPC health (grpc.health.v1.Health/Check) answers SERVING on GRPC_PORT" grpc_serving
write() { podman exec "$name" node -e "require('fs').writeFileSync(process.argv[1], 'x')" "$1" 2>/dev/null; }
check "the root filesystem is read-only" bash -c "! podman exec $name node -e \"require('fs').writeFileSync('/app/probe','x')\" 2>/dev/null"
check "/tmp is writable" write /tmp/probe
check "the data volume is writable" write /app/data/probe
check "the image carries OCI labels" \
  test "$(podman image inspect -f '{{index .Config.Labels "org.opencontainers.image.title"}}' "$image")" = ml-inference

no_shell() { # exec of /bin/sh fails because there is none, not for another reason
  local out
  if out=$(podman exec "$name" /bin/sh -c true 2>&1); then return 1; fi
  grep -qiE 'no such file|not found' <<<"$out"
}
check "the image has no shell (distroless base)" no_shell
in_image() { podman exec "$name" node -e "$1" 2>/dev/null; }
check "node_modules has production dependencies only (no jest, typescript, @nestjs/cli)" in_image \
  "const fs=require('fs'); process.exit(['jest','typescript','@nestjs/cli'].some((p)=>fs.existsSync('/app/node_modules/'+p)) ? 1 : 0)"
check "onnxruntime-node keeps its linux/x64 binaries only" in_image \
  "const fs=require('fs'); const d='/app/node_modules/onnxruntime-node/bin/napi-v6'; process.exit(fs.readdirSync(d).join()==='linux' && fs.readdirSync(d+'/linux').join()==='x64' ? 0 : 1)"
check "the app is the esbuild bundle, not tsc's output (one file, no libs/)" in_image \
  "const fs=require('fs'); process.exit(fs.existsSync('/app/dist/bundle.js') && !fs.existsSync('/app/dist/libs') ? 0 : 1)"

if podman exec "$name" node -e 'require("fs").accessSync("dist/apps/ml-cli/src/main.js")' 2>/dev/null; then
  set +e
  podman run --rm --network=none --read-only --tmpfs /tmp -v "$run_id-data:/app/data" -e API_KEYS="$key" \
    "$image" node dist/apps/ml-cli/src/main.js drift --model seed_gbc >"$build_tmp/cli.log" 2>&1
  code=$?
  set -e
  # The chart's CronJob runs exactly this; with no traffic logged yet the verdict is "insufficient data" (2).
  check "the drift CLI runs in the image (exit $code: 0 no drift, 1 drift, 2 insufficient data)" \
    bash -c "[ $code -le 2 ] && ! grep -qiE 'cannot find module|MODULE_NOT_FOUND|invalid environment' '$build_tmp/cli.log'"
else
  echo "  skip the drift CLI: dist/apps/ml-cli is not in this build yet"
fi

mounted=$run_id-mounted
containers+=("$mounted")
port2=$(free_port)
podman run -d --name "$mounted" --network=host --read-only --tmpfs /tmp \
  -v "$PWD/test/fixtures/seed_torch_mlp.onnx:/models/mlp.onnx:ro" -e MODEL_PATH=/models/mlp.onnx \
  -e PORT="$port2" -e GRPC_PORT="$(free_port)" -e HOST=127.0.0.1 -e AUTH_DISABLED=true -e PREDICTION_LOG_ENABLED=false \
  -e INFERENCE_WORKERS=1 "$image" >/dev/null 2>"$build_tmp/run.log" || { cat "$build_tmp/run.log" >&2; exit 1; }
for _ in $(seq 1 120); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port2/ready")" = 200 ] && break
  sleep 0.5
done
check "a model mounted from the host is served instead (MODEL_PATH)" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port2/v1/models/mlp")" = 200
podman rm -f -t 0 "$mounted" >/dev/null 2>&1

stop_start=$(date +%s%N)
podman kill --signal TERM "$name" >/dev/null 2>&1
code=$(timeout 30 podman wait "$name" 2>/dev/null || echo timeout)
stop_ms=$((($(date +%s%N) - stop_start) / 1000000))
check "SIGTERM: drained and exited with code $code in $stop_ms ms (want 0, under 5 s)" \
  bash -c "[ '$code' = 0 ] && [ $stop_ms -lt 5000 ]"
check "the drain is logged" bash -c "podman logs $name 2>&1 | grep -q 'SIGTERM received: draining'"

echo "== size"
runtime_base=$(sed -n 's/^ARG RUNTIME_IMAGE=//p' Dockerfile)
base_layers=$(podman image inspect -f '{{len .RootFS.Layers}}' "$runtime_base")
node - "$image" "$runtime_base" "$base_layers" "$max_mb" <<'EOF' || fail "image size within ${max_mb} MB"
const { execFileSync } = require('node:child_process');
const [image, baseName, baseLayers, maxMb] = process.argv.slice(2);
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const size = (ref) => Number(execFileSync('podman', ['image', 'inspect', '-f', '{{.Size}}', ref], { encoding: 'utf8' }));
// History is newest first; entries with a size are layers, the last `baseLayers` of them are the base's.
const history = JSON.parse(execFileSync('podman', ['history', '--format', 'json', '--no-trunc', image], { encoding: 'utf8' }));
const layers = history.filter((h) => h.size > 0);
const app = layers.slice(0, layers.length - Number(baseLayers));
const labels = {
  '/usr/local/bin/node': 'node binary (stripped)',
  '/etc/': 'user 10001 in /etc/passwd and /etc/group',
  '/app/data': '/app/data, owned by 10001',
  './node_modules': 'node_modules (onnxruntime linux/x64, piscina, Swagger UI)',
  './': 'package.json',
  './models': 'models/ (the default model)',
  './dist': 'dist/ (the bundled server and CLI)',
};
const name = (h) => {
  const by = h.CreatedBy ?? h.createdBy ?? '';
  const target = by.match(/ in (\S+)\s*$/)?.[1];
  if (target) return labels[target] ?? target;
  return by.replace(/^\/bin\/sh -c (#\(nop\) )?/, '').slice(0, 50);
};
const total = size(image);
const base = size(baseName);
console.log(`  ${'runtime base ' + baseName}`.padEnd(62) + mb(base).padStart(10));
for (const h of [...app].reverse()) console.log(`  + ${name(h)}`.padEnd(62) + mb(h.size).padStart(10));
const appBytes = app.reduce((sum, h) => sum + h.size, 0);
const nodeBytes = app.filter((h) => name(h).startsWith('node binary')).reduce((s, h) => s + h.size, 0);
console.log(`  image total`.padEnd(62) + mb(total).padStart(10));
console.log(`  app layers (all but the base)`.padEnd(62) + mb(appBytes).padStart(10));
console.log(`  app layers without the node binary`.padEnd(62) + mb(appBytes - nodeBytes).padStart(10));
if (total > Number(maxMb) * 1e6) {
  console.error(`  image is ${mb(total)}, over the ${maxMb} MB ceiling`);
  process.exit(1);
}
EOF

# Layers of builds a week old and no longer tagged; the current build's cache stays for the next run.
podman image prune -f --filter until=168h >/dev/null 2>&1 || true

echo "== done in $((SECONDS - t0)) s"
echo "image: $passed passed, $failed failed"
[ "$failed" = 0 ]
