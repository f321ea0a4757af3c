// The container image's JavaScript and node_modules (see the Dockerfile). The developer path (`npm start`,
// `npm test`, Jest, ts-node) never uses this file.
//
// `node scripts/bundle.mjs` (`npm run build:bundle` runs tsc first): bundles what tsc wrote to dist/ into dist/bundle/,
// which the image copies to /app/dist, so the usual commands work there unchanged:
//
//   bundle.js                       the server and the CLI in one file; each runs only when asked for, and they
//                                   share Nest and the libraries, which would otherwise be in the image twice
//   onnx-worker.js                  the piscina worker, beside bundle.js where WorkerPool looks for it
//   apps/inference-api/src/main.js  `node dist/apps/inference-api/src/main.js` starts the server, as before
//   apps/ml-cli/src/main.js         `node dist/apps/ml-cli/src/main.js drift …` runs the CLI, as before
//
// and dist/bundle.externals.json, the packages the bundle leaves out. The input is tsc's JavaScript, not the
// TypeScript: esbuild emits no decorator metadata, and Nest's dependency injection reads it.
//
// Left out of the bundle:
//   - packages that load files by path at run time: onnxruntime-node (a native addon at a computed path),
//     piscina (starts its own worker script), swagger-ui-dist (Swagger UI's files are served from its folder),
//     grpc-health-check (reads its health.proto from its own folder when loaded);
//   - optional integrations that Nest and Terminus require only when an app uses them, each behind Nest's
//     optional loader, and the transports of @nestjs/microservices other than gRPC, which it loads only when an
//     app connects one. None is installed or used here, so leaving them unresolved changes nothing.
//
// The service's own .proto (proto/open_inference_grpc.proto) is not JavaScript: the image copies proto/ beside
// dist/, where the server finds it by walking up from bundle.js.
//
// `node scripts/bundle.mjs modules <app dir> <externals.json> <out dir>`: of an installed production tree
// (<app dir>/node_modules), copies only those packages and what they depend on to <out dir>/node_modules, at the
// same paths so Node resolves them as in the full tree. Fails if a required dependency is not installed.
//
// At the repository root because the lint config checks every script below it with the TypeScript project.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNTIME_EXTERNALS = ['onnxruntime-node', 'piscina', 'swagger-ui-dist', 'grpc-health-check'];
const OPTIONAL_UNUSED = [
  '@nestjs/websockets',
  'amqp-connection-manager',
  'amqplib',
  'ioredis',
  'kafkajs',
  'mqtt',
  'nats',
  'class-transformer/storage',
  '@mikro-orm/core',
  '@nestjs/mongoose',
  '@nestjs/sequelize',
  '@nestjs/typeorm',
];
// Dependencies a package declares but needs only in its install script, which the image never runs
// (--ignore-scripts): onnxruntime-node's downloads CUDA binaries (adm-zip unpacks them, global-agent proxies the
// download; its dist/ requires neither); swagger-ui-dist's sends install analytics.
const INSTALL_ONLY = {
  'onnxruntime-node': ['adm-zip', 'global-agent'],
  'swagger-ui-dist': ['@scarf/scarf'],
};

const packageOf = (path) =>
  path
    .split('/')
    .slice(0, path.startsWith('@') ? 2 : 1)
    .join('/');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

async function bundle() {
  const { build } = await import('esbuild');
  // The repository's root, one level above scripts/.
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  const dist = join(root, 'dist');
  const out = join(dist, 'bundle');
  const SERVER = 'apps/inference-api/src/main.js';
  const CLI = 'apps/ml-cli/src/main.js';
  const WORKER = 'libs/inference/src/runtime/onnx-worker.js';

  for (const file of [SERVER, CLI, WORKER]) {
    try {
      statSync(join(dist, file));
    } catch {
      throw new Error(`dist/${file} is missing: run \`npm run build\` first`);
    }
  }

  const options = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Nest names providers, modules and loggers after their classes: keep every name as written. Not minified
    // either: stack traces from production stay readable, for ~2 MB.
    keepNames: true,
    legalComments: 'none',
    external: [...RUNTIME_EXTERNALS, ...OPTIONAL_UNUSED],
    metafile: true,
    logLevel: 'warning',
  };

  rmSync(out, { recursive: true, force: true });
  const started = Date.now();
  const results = await Promise.all([
    build({
      ...options,
      // esbuild keeps each CommonJS module in a closure that runs on its first require(), so the CLI never
      // evaluates the server's modules, nor the server the CLI's.
      stdin: {
        contents: `exports.server = () => require('./${SERVER}');\nexports.cli = () => require('./${CLI}');\n`,
        resolveDir: dist,
        sourcefile: 'bundle-entry.js',
      },
      outfile: join(out, 'bundle.js'),
    }),
    build({ ...options, entryPoints: [join(dist, WORKER)], outfile: join(out, 'onnx-worker.js') }),
  ]);

  const stub = (what, call) =>
    `'use strict';\n// ${what}: bundled with the rest in dist/bundle.js (scripts/bundle.mjs).\nrequire('../../../bundle.js').${call}();\n`;
  for (const [file, text] of [
    [SERVER, stub('The server', 'server')],
    [CLI, stub('The CLI', 'cli')],
  ]) {
    mkdirSync(dirname(join(out, file)), { recursive: true });
    writeFileSync(join(out, file), text);
  }

  // The runtime externals the bundle really requires: what the image's node_modules must hold.
  const externals = new Set();
  for (const { metafile } of results)
    for (const output of Object.values(metafile.outputs))
      for (const { path, external } of output.imports)
        if (external && RUNTIME_EXTERNALS.includes(packageOf(path))) externals.add(packageOf(path));
  writeFileSync(join(dist, 'bundle.externals.json'), JSON.stringify([...externals].sort(), null, 2) + '\n');

  for (const { metafile } of results)
    for (const [file, { bytes }] of Object.entries(metafile.outputs))
      console.log(`  ${relative(root, file).padEnd(30)} ${(bytes / 1e6).toFixed(2).padStart(6)} MB`);
  console.log(`  left out: ${[...externals].sort().join(', ')} (${Date.now() - started} ms)`);
}

function modules(appDir, externalsFile, outDir) {
  /** Node's lookup of `name` from inside `fromDir`: the nearest node_modules/<name> above it. */
  const resolvePackage = (name, fromDir) => {
    for (let dir = fromDir; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return candidate;
      if (dir === appDir || dirname(dir) === dir) return undefined;
    }
  };

  const kept = new Map(); // package dir → name@version
  const queue = readJson(externalsFile).map((name) => ({
    name,
    from: appDir,
    optional: false,
    by: 'the bundle',
  }));
  while (queue.length > 0) {
    const { name, from, optional, by } = queue.shift();
    const dir = resolvePackage(name, from);
    if (dir === undefined) {
      if (optional) continue;
      throw new Error(`${name} (required by ${by}) is not installed`);
    }
    if (kept.has(dir)) continue;
    const pkg = readJson(join(dir, 'package.json'));
    kept.set(dir, `${pkg.name}@${pkg.version}`);
    const skip = new Set(INSTALL_ONLY[pkg.name] ?? []);
    const optionalPeers = new Set(
      Object.entries(pkg.peerDependenciesMeta ?? {})
        .filter(([, meta]) => meta.optional)
        .map(([peer]) => peer),
    );
    const wanted = [
      ...Object.keys(pkg.dependencies ?? {}).map((dep) => [dep, false]),
      ...Object.keys(pkg.optionalDependencies ?? {}).map((dep) => [dep, true]),
      ...Object.keys(pkg.peerDependencies ?? {}).map((dep) => [dep, optionalPeers.has(dep)]),
    ];
    for (const [dep, isOptional] of wanted)
      if (!skip.has(dep)) queue.push({ name: dep, from: dir, optional: isOptional, by: pkg.name });
  }

  for (const dir of kept.keys())
    // A package's own nested node_modules hold packages in their own right: copied only if kept.
    cpSync(dir, join(outDir, relative(appDir, dir)), {
      recursive: true,
      filter: (source) => !relative(dir, source).split(sep).includes('node_modules'),
    });
  console.log(`  node_modules: ${[...kept.values()].sort().join(', ')}`);
}

const [command, ...args] = process.argv.slice(2);
if (command === undefined) await bundle();
else if (command === 'modules' && args.length === 3) modules(...args);
else {
  console.error(
    'usage: node scripts/bundle.mjs | node scripts/bundle.mjs modules <app dir> <externals.json> <out dir>',
  );
  process.exit(2);
}
