import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './support/helm';

/**
 * What the Dockerfile promises, read statically. `npm run test:image` builds and runs it for real with podman;
 * this spec keeps the promises visible in `npm test`, which runs where podman may not.
 */
describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const lines = text.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'));
  const stages = lines.filter((l) => l.startsWith('FROM '));
  const runtime = lines.slice(lines.findIndex((l) => / AS runtime$/.test(l)));

  it('takes both bases as build arguments: Debian 12 to build, distroless Debian 12 (glibc, no shell) to run', () => {
    expect(lines).toContain('ARG NODE_IMAGE=node:24-bookworm-slim');
    expect(lines).toContain('ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12');
    expect(stages).toEqual([
      'FROM ${RUNTIME_IMAGE} AS runtime-base',
      'FROM ${NODE_IMAGE} AS build',
      'FROM ${NODE_IMAGE} AS node',
      'FROM ${NODE_IMAGE} AS deps',
      'FROM ${RUNTIME_IMAGE} AS runtime',
    ]);
    expect(lines.join('\n')).not.toMatch(/alpine/i);
    // The runtime base has no shell: nothing may RUN there, and the user is added by copying /etc/passwd.
    expect(runtime.filter((l) => l.startsWith('RUN '))).toEqual([]);
    expect(runtime).toContain('COPY --from=node /rootfs/etc/passwd /rootfs/etc/group /etc/');
  });

  it('ships the esbuild bundle, not the tsc output, with node_modules cut down to what the bundle leaves out', () => {
    expect(text).toContain('RUN npm run build:bundle');
    expect(runtime).toContain('COPY --from=build /app/dist/bundle ./dist');
    expect(text).toContain('RUN node bundle.mjs modules /app bundle.externals.json /runtime');
    expect(runtime).toContain('COPY --from=deps /runtime/node_modules ./node_modules');
    expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')).toContain('!bundle.mjs');
  });

  it('installs production dependencies only, without onnxruntime’s download, keeping its linux/x64 binaries', () => {
    expect(text).toContain('ONNXRUNTIME_NODE_INSTALL=skip');
    expect(text).toMatch(/npm ci --omit=dev --ignore-scripts/);
    expect(text).toMatch(/find "\$ort" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf/);
    expect(text).toMatch(/find "\$ort\/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf/);
    expect(runtime.join('\n')).not.toMatch(/npm (ci|install)/);
  });

  it('runs node directly as a fixed non-root UID, with an exec-form CMD and a shell-free HEALTHCHECK', () => {
    expect(runtime).toContain('USER 10001:10001');
    expect(runtime.at(-1)).toBe('CMD ["node", "dist/apps/inference-api/src/main.js"]');
    const healthcheck = runtime.find((l) => l.startsWith('HEALTHCHECK'));
    expect(healthcheck).toMatch(/CMD \["node", "-e", "fetch\('http:\/\/127\.0\.0\.1:'.*\/health'\)/);
    expect(runtime).toContain('VOLUME ["/app/data"]');
    expect(runtime).toContain('COPY models ./models');
  });

  it('carries OCI labels', () => {
    for (const label of ['title', 'version', 'revision', 'created', 'source', 'licenses'])
      expect(text).toContain(`org.opencontainers.image.${label}=`);
  });

  it('sends only what the build needs as context', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignore[ignore.findIndex((l) => !l.startsWith('#'))]).toBe('*');
    for (const kept of [
      '!package.json',
      '!package-lock.json',
      '!.npmrc',
      '!apps/**',
      '!libs/**',
      '!models/**',
    ])
      expect(ignore).toContain(kept);
  });
});
