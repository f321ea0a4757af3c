import { formatNumber } from './binning';
import { DistributionDrift, DistributionStatus, DriftReport, formatPsi, Verdict } from './drift-report';
import { ZERO_SHARE } from './psi';

/** Everything from outside (feature names come from model.json) goes through here before it reaches the page. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const VERDICT_TEXT: Record<Verdict, string> = {
  'no-drift': 'No drift',
  drift: 'Drift detected',
  'insufficient-data': 'Insufficient data',
  'no-reference': 'No reference profile',
};

const STATUS_TEXT: Record<DistributionStatus, string> = {
  stable: 'stable',
  moderate: 'moderate',
  drift: 'drift',
  'insufficient-data': 'insufficient data',
};

const fixed = formatPsi;
const badge = (status: DistributionStatus) => `<span class="badge ${status}">${STATUS_TEXT[status]}</span>`;
const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

/**
 * The report as one self-contained page: verdict first, then the features ranked by PSI, then one overlaid
 * histogram per distribution. Inline CSS and SVG only: no script, font or image is fetched, so it renders offline
 * and from a mail attachment alike.
 */
/** Every row is counted; with PREDICTION_LOG_SAMPLE_RATE below 1 only a share of them is in the log. */
function loggingNote({
  sample_rate,
  rows_counted,
  rows_logged,
  from_sample,
}: DriftReport['logging']): string {
  const rows = `${rows_counted} rows counted, ${rows_logged} of them in the log (sample rate ${sample_rate}).`;
  return from_sample ? `${rows} Some counts were made from the log's sample, not from every row.` : rows;
}

export function renderHtmlReport(report: DriftReport): string {
  const title = `Drift report: ${report.model} v${report.version}, ${report.window.from} to ${report.window.to}`;
  const distributions = [
    ...report.features,
    ...(report.prediction?.labels ? [report.prediction.labels] : []),
    ...(report.prediction ? [report.prediction.score] : []),
  ];
  // Ids by position: names may hold any character.
  const ids = new Map(distributions.map((d, i) => [d, `dist-${i}`]));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>${escapeHtml(report.model)} <span class="muted">v${escapeHtml(report.version)}</span></h1>
  <p class="muted">Predictions from ${escapeHtml(report.window.from)} to ${escapeHtml(report.window.to)} (UTC) compared
  with ${escapeHtml(describeReference(report))}. Generated ${escapeHtml(report.generated_at)}.</p>
</header>
<section class="verdict ${report.verdict}" id="verdict">
  <h2>${escapeHtml(VERDICT_TEXT[report.verdict])}</h2>
  <p>${escapeHtml(report.summary)}</p>
  ${report.reference.note ? `<p class="note">${escapeHtml(report.reference.note)}</p>` : ''}
  <dl>
    <div><dt>Predictions in window</dt><dd>${report.n_cur.toLocaleString('en')}</dd></div>
    <div><dt>Reference rows</dt><dd>${report.n_ref.toLocaleString('en')}</dd></div>
    <div><dt>Drifted features</dt><dd>${report.drifted_features.length} of ${report.features.length} (${percent(report.drifted_share)})</dd></div>
    ${report.prediction ? `<div><dt>Prediction PSI</dt><dd>${fixed(report.prediction.psi)} ${badge(report.prediction.status)}</dd></div>` : ''}
  </dl>
</section>
${report.features.length > 0 ? featureTable(report, ids) : ''}
${distributions.length > 0 ? `<section><h2>Distributions</h2><p class="muted">Share of rows per bin: reference <span class="key ref"></span> and this window <span class="key cur"></span>, on the reference's frozen bins (deciles; the first and last are open-ended).</p>${distributions.map((d) => histogram(d, ids.get(d) ?? '')).join('\n')}</section>` : ''}
<footer>
  <p><strong>How to read this.</strong> PSI = Σ (cur<sub>i</sub> − ref<sub>i</sub>) · ln(cur<sub>i</sub> / ref<sub>i</sub>) over the bins; an empty bin's share is taken as ${ZERO_SHARE} so the logarithm stays finite.
  Below ${report.thresholds.warn} stable, ${report.thresholds.warn}–${report.thresholds.alert} moderate, above ${report.thresholds.alert} drift.
  The noise floor, (bins − 1)·(1/n<sub>ref</sub> + 1/n<sub>cur</sub>), is roughly the PSI that sampling alone gives at these sample sizes: a score near it means nothing.
  Fewer than ${report.thresholds.min_samples} predictions give no verdict.</p>
  <p class="muted">Counts from ${report.sources.summaries} count summaries, ${report.sources.tails} log tails and ${report.sources.raw_files} raw log files; ${report.duration_ms} ms. ${loggingNote(report.logging)}</p>
</footer>
</body>
</html>
`;
}

function describeReference(report: DriftReport): string {
  const { reference } = report;
  if (reference.kind === 'reference.json')
    return `the reference profile (${reference.created_at ?? 'reference.json'})`;
  if (reference.kind === 'baseline')
    return `the first days of logged traffic (${(reference.baseline_days ?? []).join(', ')})`;
  return 'nothing: there is no reference profile';
}

function featureTable(report: DriftReport, ids: Map<DistributionDrift, string>): string {
  const max = Math.max(report.thresholds.alert * 1.5, ...report.features.map((f) => f.psi ?? 0));
  const rows = report.features
    .map((feature) => {
      const width = Math.max(1, Math.round((Math.min(feature.psi ?? 0, max) / max) * 100));
      return `<tr data-feature="${escapeHtml(feature.name)}" data-psi="${feature.psi ?? ''}" class="${feature.status}">
  <th scope="row"><a href="#${ids.get(feature) ?? ''}">${escapeHtml(feature.name)}</a></th>
  <td class="num">${fixed(feature.psi)}</td>
  <td><span class="bar ${feature.status}" style="width:${width}%"></span></td>
  <td>${badge(feature.status)}</td>
  <td class="num muted">${fixed(feature.noise_floor)}</td>
  <td class="muted">${feature.method === 'psi-deciles' ? 'deciles' : 'categories'}</td>
</tr>`;
    })
    .join('\n');
  return `<section>
<h2>Features by PSI</h2>
<table id="features">
<thead><tr><th scope="col">Feature</th><th scope="col" class="num">PSI</th><th scope="col" class="barcol"></th><th scope="col">Status</th><th scope="col" class="num">Noise floor</th><th scope="col">Bins</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>`;
}

const WIDTH = 900;
const HEIGHT = 200;
const LEFT = 44;
const BOTTOM = 24;
const TOP = 10;

function histogram(d: DistributionDrift, id: string): string {
  const bins = d.bins.length;
  const plotWidth = WIDTH - LEFT - 8;
  const plotHeight = HEIGHT - BOTTOM - TOP;
  const top = Math.max(0.05, ...d.bins.map((b) => Math.max(b.reference, b.current))) * 1.1;
  const slot = plotWidth / bins;
  const y = (share: number) => TOP + plotHeight - (share / top) * plotHeight;
  const bars = d.bins
    .map((b, i) => {
      const x = LEFT + i * slot;
      const tip = `${b.bin}: reference ${percent(b.reference)}, current ${percent(b.current)}, PSI contribution ${fixed(b.contribution)}`;
      return `<g><title>${escapeHtml(tip)}</title>
<rect class="ref" x="${(x + slot * 0.08).toFixed(1)}" y="${y(b.reference).toFixed(1)}" width="${(slot * 0.84).toFixed(1)}" height="${(TOP + plotHeight - y(b.reference)).toFixed(1)}"/>
<rect class="cur" x="${(x + slot * 0.24).toFixed(1)}" y="${y(b.current).toFixed(1)}" width="${(slot * 0.52).toFixed(1)}" height="${(TOP + plotHeight - y(b.current)).toFixed(1)}"/></g>`;
    })
    .join('\n');
  // Numeric bins are labelled by their edges, at the boundaries; categories under their bar.
  const axisY = HEIGHT - BOTTOM + 15;
  const labels = d.edges
    ? d.edges
        .map(
          (edge, i) =>
            `<text x="${(LEFT + (i + 1) * slot).toFixed(1)}" y="${axisY}" text-anchor="middle">${escapeHtml(formatNumber(edge))}</text>`,
        )
        .join('')
    : d.bins
        .map((b, i) => {
          const text = b.bin.length > 16 ? `${b.bin.slice(0, 15)}…` : b.bin;
          return `<text x="${(LEFT + (i + 0.5) * slot).toFixed(1)}" y="${axisY}" text-anchor="middle">${escapeHtml(text)}</text>`;
        })
        .join('');
  const ticks = [0, top / 2, top]
    .map(
      (share) =>
        `<text x="${LEFT - 6}" y="${(y(share) + 4).toFixed(1)}" text-anchor="end">${Math.round(share * 100)}%</text><line x1="${LEFT}" x2="${WIDTH - 8}" y1="${y(share).toFixed(1)}" y2="${y(share).toFixed(1)}" class="grid"/>`,
    )
    .join('');
  return `<figure id="${id}" class="hist">
<figcaption><strong>${escapeHtml(d.name)}</strong> PSI ${fixed(d.psi)} ${badge(d.status)}
<span class="muted">n<sub>ref</sub> ${d.n_ref.toLocaleString('en')}, n<sub>cur</sub> ${d.n_cur.toLocaleString('en')}${d.reference_stats.mean !== null ? `, reference mean ${fixed(d.reference_stats.mean, 3)}, std ${fixed(d.reference_stats.std ?? 0, 3)}` : ''}</span></figcaption>
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(`${d.name}: reference and current shares per bin`)}">
${ticks}
${bars}
${labels}
</svg>
</figure>`;
}

const STYLE = `
:root { --ok: #1b7f3b; --warn: #b26a00; --bad: #c62828; --ref: #9fb3c8; --cur: #e07b39; --muted: #5f6b76; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d252c; max-width: 980px; margin: 0 auto; padding: 24px; background: #fafbfc; }
h1 { margin: 0 0 4px; font-size: 26px; } h2 { font-size: 19px; margin: 28px 0 10px; }
.muted { color: var(--muted); }
.verdict { border-radius: 10px; padding: 16px 20px; margin: 16px 0; border-left: 8px solid; background: #fff; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.verdict h2 { margin: 0 0 6px; font-size: 22px; }
.verdict.no-drift { border-color: var(--ok); } .verdict.no-drift h2 { color: var(--ok); }
.verdict.drift { border-color: var(--bad); } .verdict.drift h2 { color: var(--bad); }
.verdict.insufficient-data, .verdict.no-reference { border-color: var(--muted); }
.verdict dl { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 10px 0 0; }
.verdict dt { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.verdict dd { margin: 0; font-size: 18px; font-weight: 600; }
.note { background: #fff8e1; padding: 8px 12px; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; background: #fff; box-shadow: 0 1px 3px rgba(0,0,0,.08); border-radius: 8px; overflow: hidden; }
th, td { padding: 7px 12px; text-align: left; border-bottom: 1px solid #e6e9ec; }
thead th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); background: #f3f5f7; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.drift { background: #fdecea; } tr.moderate { background: #fff4e0; }
th a { color: inherit; }
.barcol { width: 28%; }
.bar { display: inline-block; height: 10px; border-radius: 5px; background: var(--ok); }
.bar.moderate { background: var(--warn); } .bar.drift { background: var(--bad); }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; background: var(--ok); }
.badge.moderate { background: var(--warn); } .badge.drift { background: var(--bad); }
.badge.insufficient-data, .bar.insufficient-data { background: var(--muted); }
.hist { background: #fff; margin: 0 0 14px; padding: 10px 14px; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.hist figcaption { margin-bottom: 4px; }
.hist svg { width: 100%; height: auto; font-size: 12px; fill: var(--muted); }
rect.ref { fill: var(--ref); } rect.cur { fill: var(--cur); opacity: .85; }
line.grid { stroke: #e6e9ec; }
.key { display: inline-block; width: 12px; height: 12px; vertical-align: middle; border-radius: 2px; }
.key.ref { background: var(--ref); } .key.cur { background: var(--cur); }
footer { margin-top: 28px; font-size: 13px; }
`;
