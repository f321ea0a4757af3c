# syntax=docker/dockerfile:1
#
# ml-inference: the REST and gRPC server for ONNX models, built in stages.
#   build   - every dependency, TypeScript compiled to dist/, then bundled with esbuild into one JavaScript file
#   node    - the node binary alone, stripped of its symbol table; the runtime's user entry and data folder
#   deps    - production dependencies, cut down to what the bundle leaves out: onnxruntime-node (its linux/x64
#             binaries only), piscina, Swagger UI's static files, grpc-health-check (with its health.proto)
#   runtime - distroless (glibc, libstdc++, CA certificates, tzdata; no shell) + that binary + the bundle + those
#             packages + the gRPC service's .proto + the default model; nothing else
#
# Both bases are build arguments so a mirror, a pinned digest or a local stand-in can be used:
#   docker build --build-arg NODE_IMAGE=registry.example/node:24-bookworm-slim .
# `npm run test:image` builds local stand-ins under exactly these names (see scripts/image/).
# The runtime is Google's distroless "cc" image of the build's Debian release: the C and C++ runtime libraries
# that node and onnxruntime's binaries link against, and no shell, package manager or coreutils. glibc, not
# Alpine: onnxruntime-node's binaries are linked against glibc.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12

# The runtime base as it is, so the node stage can read its users: the runtime stage has no shell to add one.
FROM ${RUNTIME_IMAGE} AS runtime-base

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# onnxruntime-node's install script would download CUDA binaries; the CPU ones ship inside the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json .npmrc ./
# No package needs its install script to build (onnxruntime's only downloads, esbuild's only checks its binary,
# the rest are analytics or optional). Peer-only packages are the AWS CDK that the chart tests' helm binary drags
# in: not needed to compile.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --omit=peer
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
# tsc to dist/, then esbuild to dist/bundle/: the server and the CLI in one file, with stubs at the usual paths
# (dist/apps/*/src/main.js), and dist/bundle.externals.json naming the packages left out of it (scripts/bundle.mjs).
COPY scripts/bundle.mjs ./scripts/
RUN npm run build:bundle

FROM ${NODE_IMAGE} AS node
# The official binary keeps its symbol table (~18 MB of 127 MB). Strip it: the dynamic symbols that native addons
# such as onnxruntime-node link against stay, JavaScript stack traces are unaffected. STRIP_NODE=false keeps it.
ARG STRIP_NODE=true
RUN set -eux; \
    if [ "$STRIP_NODE" = true ]; then \
      apt-get update -qq; \
      apt-get install -y -qq --no-install-recommends binutils >/dev/null; \
      strip --strip-all -o /node /usr/local/bin/node; \
    else \
      cp /usr/local/bin/node /node; \
    fi; \
    /node -e 'process.versions.node'
# A fixed numeric UID/GID so Kubernetes' runAsNonRoot can verify it and volumes can be prepared for it; added to
# the base's own users so that node's os.userInfo() and os.homedir() work. /app/data is the only place the
# service writes (prediction log, drift reports); the root FS can be read-only.
COPY --from=runtime-base /etc/passwd /etc/group /rootfs/etc/
RUN set -eux; \
    echo 'app:x:10001:10001:ml-inference:/nonexistent:/sbin/nologin' >>/rootfs/etc/passwd; \
    echo 'app:x:10001:' >>/rootfs/etc/group; \
    mkdir -p /rootfs/app/data/predictions /rootfs/app/data/reports; \
    chown -R 10001:10001 /rootfs/app/data

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts
# onnxruntime-node ships binaries for every platform (~288 MB); keep the one this image runs on (~45 MB).
# Type declarations, source maps and Markdown are never loaded at run time, nor Swagger UI's other builds: Nest's
# page loads swagger-ui-bundle.js, the standalone preset and the CSS.
RUN set -eux; \
    ort=node_modules/onnxruntime-node/bin/napi-v6; \
    test -f "$ort/linux/x64/onnxruntime_binding.node"; \
    find "$ort" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +; \
    find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +; \
    find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
      -o -name '*.md' -o -name '*.markdown' \) -delete; \
    test -f node_modules/swagger-ui-dist/swagger-ui-bundle.js; \
    rm -f node_modules/swagger-ui-dist/swagger-ui.js node_modules/swagger-ui-dist/swagger-ui-es-bundle*.js; \
    rm -f package-lock.json .npmrc
# The rest of node_modules is inside the bundle: keep only the packages it leaves out, and their dependencies.
COPY --from=build /app/dist/bundle.externals.json ./
COPY scripts/bundle.mjs ./scripts/
RUN node scripts/bundle.mjs modules /app bundle.externals.json /runtime

FROM ${RUNTIME_IMAGE} AS runtime

# No RUN from here on: the base has no shell. Of Node only the binary: the server needs neither npm nor corepack.
COPY --from=node /node /usr/local/bin/node
COPY --from=node /rootfs/etc/passwd /rootfs/etc/group /etc/
COPY --from=node --chown=10001:10001 /rootfs/app/data /app/data

WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000 \
    GRPC_PORT=8081 \
    HOST=0.0.0.0 \
    MODEL_REPOSITORY=/app/models \
    PREDICTION_LOG_DIR=/app/data/predictions \
    DRIFT_REPORT_DIR=/app/data/reports

COPY --from=deps /runtime/node_modules ./node_modules
# package.json carries the version the service reports; the default model is baked in, others can be mounted.
COPY package.json ./
COPY models ./models
# The Open Inference Protocol's .proto (and its license), read at start-up by the gRPC server: found by walking up
# from dist/bundle.js to /app/proto.
COPY proto ./proto
# The bundle (scripts/bundle.mjs): `node dist/apps/inference-api/src/main.js` and `node dist/apps/ml-cli/src/main.js`
# start the server and the CLI as in a tsc build.
COPY --from=build /app/dist/bundle ./dist

USER 10001:10001
# HTTP (REST, metrics, probes) and gRPC (the Open Inference Protocol and grpc.health.v1.Health).
EXPOSE 3000 8081
VOLUME ["/app/data"]
# Last, so a new revision or date does not invalidate the layers above.
ARG RUNTIME_IMAGE
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="ml-inference" \
      org.opencontainers.image.description="Serves ONNX models over REST and gRPC with readiness, Prometheus metrics, prediction logs and drift reports" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="UNLICENSED" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}"
# No shell or curl needed: node itself asks /health.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form, node as PID 1's only process: SIGTERM reaches the server, which drains and exits 0.
CMD ["node", "dist/apps/inference-api/src/main.js"]
