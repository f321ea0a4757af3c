#!/usr/bin/env node
// Turns an exporter's golden file (`inputs`, `labels`, `probabilities`, optionally `logits`: what the training
// framework itself returned, see test/fixtures/) into the validation.json a model version ships beside model.onnx
// (docs/VALIDATION.md). Numbers are copied unchanged: the point is the framework's own outputs, not ours.
//
//   node scripts/golden-to-validation.mjs <golden.json> <validation.json> [--source <text>] [--logits-output <name>]
//
// The shipped default model's file was made with:
//   node scripts/golden-to-validation.mjs test/fixtures/seed_gbc_zipmap.golden.json models/seed_gbc/1/validation.json \
//     --source "scikit-learn 1.2.1 predict / predict_proba (test/fixtures/seed_gbc_zipmap.golden.json)"
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const USAGE =
  'usage: node scripts/golden-to-validation.mjs <golden.json> <validation.json> [--source <text>] [--logits-output <name>]';

function main() {
  const { values, positionals } = parseArgs({
    options: { source: { type: 'string' }, 'logits-output': { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length !== 2) throw new Error(USAGE);
  const [from, to] = positionals;
  const golden = JSON.parse(readFileSync(from, 'utf8'));
  if (!Array.isArray(golden.inputs) || golden.inputs.length === 0)
    throw new Error(`${from}: no "inputs" rows`);

  const validation = {
    ...(values.source ? { source: values.source } : {}),
    inputs: golden.inputs,
    ...(golden.labels ? { labels: golden.labels } : {}),
    ...(golden.probabilities ? { probabilities: golden.probabilities } : {}),
    ...(golden.values ? { values: golden.values } : {}),
    // Raw logits are only comparable under the name of the graph output that holds them.
    ...(golden.logits && values['logits-output']
      ? { outputs: { [values['logits-output']]: golden.logits } }
      : {}),
  };
  if (!validation.labels && !validation.probabilities && !validation.values && !validation.outputs)
    throw new Error(
      `${from}: nothing to compare (no labels, probabilities, values or logits with --logits-output)`,
    );
  for (const field of ['labels', 'probabilities', 'values']) {
    if (validation[field] && validation[field].length !== validation.inputs.length)
      throw new Error(
        `${from}: "${field}" has ${validation[field].length} entries for ${validation.inputs.length} rows`,
      );
  }

  const temporary = `${to}.tmp`;
  writeFileSync(temporary, `${rowsOnOneLine(validation)}\n`);
  renameSync(temporary, to);
  process.stdout.write(
    `wrote ${to}: ${validation.inputs.length} rows (${Object.keys(validation).join(', ')})\n`,
  );
}

/** Indented JSON with each row of numbers on one line, so the file can be read and diffed. */
function rowsOnOneLine(value) {
  return JSON.stringify(value, null, 2).replace(
    /\[\s+([^[\]{}]*?)\s+\]/g,
    (_, inner) => `[${inner.split(/,\s+/).join(', ')}]`,
  );
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}
