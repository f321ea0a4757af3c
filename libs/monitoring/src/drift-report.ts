import { binCount, binLabels } from './binning';
import { ModelCounts } from './count-summary';
import { DriftStatus, noiseFloor, psi, psiContribution, PsiThresholds, sharesOf, statusOf } from './psi';
import { DistributionProfile, ReferenceProfile } from './reference-profile';

export const REPORT_FORMAT = 'ml-inference/drift-report@1';

export interface BinComparison {
  bin: string;
  reference: number;
  current: number;
  /** This bin's term of the PSI sum; null when the window has no rows. */
  contribution: number | null;
}

/**
 * A distribution's status: its PSI against the thresholds, or `insufficient-data` when the window holds fewer than
 * DRIFT_MIN_SAMPLES predictions, so that no line of a report without a verdict claims drift.
 */
export type DistributionStatus = DriftStatus | 'insufficient-data';

/** One distribution (a feature, the predicted labels, the score) compared with the reference. */
export interface DistributionDrift {
  name: string;
  method: 'psi-deciles' | 'psi-categories';
  /** Null when the window has no rows: there is nothing to compare. */
  psi: number | null;
  status: DistributionStatus;
  /** The PSI expected from sampling noise alone at these sample sizes; null when the window has no rows. */
  noise_floor: number | null;
  n_ref: number;
  n_cur: number;
  /** Numeric distributions: the frozen bin edges (bin i is [edges[i−1], edges[i]), open at both ends). */
  edges?: number[];
  bins: BinComparison[];
  reference_stats: {
    mean: number | null;
    std: number | null;
    min: number | null;
    max: number | null;
    nulls: number;
  };
}

export type Verdict = 'no-drift' | 'drift' | 'insufficient-data' | 'no-reference';

/**
 * What the report was compared with. It names no server path: reports are served over HTTP and mailed around, and
 * the model and version say which reference.json it was.
 */
export interface ReferenceDescription {
  kind: 'reference.json' | 'baseline' | 'none';
  created_at?: string;
  /** binsHash of the profile. */
  bins?: string;
  baseline_days?: string[];
  note?: string;
}

export interface DriftReport {
  format: typeof REPORT_FORMAT;
  model: string;
  version: string;
  generated_at: string;
  window: { from: string; to: string; days: string[] };
  reference: ReferenceDescription;
  thresholds: PsiThresholds & { min_samples: number };
  n_ref: number;
  n_cur: number;
  verdict: Verdict;
  /** One sentence for a person: the verdict and why. */
  summary: string;
  drifted_features: string[];
  /** Drifted features ÷ features. */
  drifted_share: number;
  /** Highest PSI first. */
  features: DistributionDrift[];
  prediction?: {
    /** The larger of the label and score PSI; null when the window has no rows. */
    psi: number | null;
    status: DistributionStatus;
    labels?: DistributionDrift;
    score: DistributionDrift;
  };
  sources: { summaries: number; tails: number; raw_files: number };
  /**
   * The rows behind `n_cur`: all counted, a share of them in the log when PREDICTION_LOG_SAMPLE_RATE (this
   * process's, `sample_rate`) is below 1. `from_sample`: some counts had to be made from the log's lines (a reference
   * changed after the rows were written, or DRIFT_BASELINE_DAYS) while the log held only a sample.
   */
  logging: { sample_rate: number; rows_counted: number; rows_logged: number; from_sample: boolean };
  duration_ms: number;
}

/**
 * One distribution against its reference. `enough` is false below DRIFT_MIN_SAMPLES rows in the window: the score
 * is still shown (when there are rows at all) but judged `insufficient-data`.
 */
export function compareDistribution(
  reference: DistributionProfile,
  current: readonly number[],
  thresholds: PsiThresholds,
  enough = true,
): DistributionDrift {
  const nRef = reference.counts.reduce((a, b) => a + b, 0);
  const nCur = current.reduce((a, b) => a + b, 0);
  const refShares = sharesOf(reference.counts);
  const curShares = sharesOf(current);
  // Without rows every current share is 0, and the 1e-4 substitute would make a large, meaningless PSI.
  const empty = nCur === 0;
  const value = empty ? null : psi(refShares, curShares);
  const labels = binLabels(reference);
  return {
    name: reference.name,
    method: reference.kind === 'numeric' ? 'psi-deciles' : 'psi-categories',
    psi: value,
    status: value === null || !enough ? 'insufficient-data' : statusOf(value, thresholds),
    noise_floor: empty ? null : noiseFloor(binCount(reference), nRef, nCur),
    n_ref: nRef,
    n_cur: nCur,
    ...(reference.kind === 'numeric' ? { edges: reference.edges } : {}),
    bins: refShares.map((ref, i) => ({
      bin: labels[i],
      reference: ref,
      current: curShares[i],
      contribution: empty ? null : psiContribution(ref, curShares[i]),
    })),
    reference_stats: {
      mean: reference.mean,
      std: reference.std,
      min: reference.min,
      max: reference.max,
      nulls: reference.nulls,
    },
  };
}

export interface DriftInputs {
  model: string;
  version: string;
  window: DriftReport['window'];
  reference: ReferenceDescription;
  thresholds: PsiThresholds & { min_samples: number };
  sources: DriftReport['sources'];
  /** PREDICTION_LOG_SAMPLE_RATE. */
  sampleRate: number;
  generatedAt: Date;
  durationMs: number;
}

/** The comparison of a window's counts with a profile, and the verdict. */
export function buildDriftReport(
  profile: ReferenceProfile,
  counts: ModelCounts,
  inputs: DriftInputs,
): DriftReport {
  const { thresholds } = inputs;
  const enough = counts.n > 0 && counts.n >= thresholds.min_samples;
  const features = profile.features
    .map((feature, i) => compareDistribution(feature, counts.features[i], thresholds, enough))
    .sort(byPsiDescending);
  const labels = profile.prediction.labels
    ? compareDistribution(profile.prediction.labels, counts.labels, thresholds, enough)
    : undefined;
  const score = compareDistribution(profile.prediction.score, counts.score, thresholds, enough);
  const predictionPsi = score.psi === null ? null : Math.max(score.psi, labels?.psi ?? 0);
  const prediction = {
    psi: predictionPsi,
    status:
      predictionPsi === null || !enough
        ? ('insufficient-data' as const)
        : statusOf(predictionPsi, thresholds),
    labels,
    score,
  };
  const nRef = profile.source.rows - profile.source.skipped_rows;
  const drifted = features.filter((f) => f.status === 'drift').map((f) => f.name);
  const verdict: Verdict = !enough
    ? 'insufficient-data'
    : drifted.length > 0 || prediction.status === 'drift'
      ? 'drift'
      : 'no-drift';
  const head = `${inputs.model} v${inputs.version}`;
  const summary =
    verdict === 'insufficient-data'
      ? `Insufficient data: ${counts.n} predictions in the window, fewer than the ${thresholds.min_samples} needed (DRIFT_MIN_SAMPLES); no verdict.`
      : verdict === 'drift'
        ? `Drift in ${head}: ${drifted.length} of ${features.length} features` +
          (drifted.length > 0 ? ` (${drifted.join(', ')})` : '') +
          (prediction.status === 'drift' ? ' and the predictions' : '') +
          ` above PSI ${thresholds.alert}.`
        : `No drift in ${head}: every feature and the predictions are below PSI ${thresholds.alert}.`;
  const sampled = counts.from_sample === true;
  return {
    ...reportHeader(inputs),
    thresholds,
    n_ref: nRef,
    n_cur: counts.n,
    verdict,
    summary: sampled
      ? `${summary} Counted in part from a sample of the prediction log (PREDICTION_LOG_SAMPLE_RATE), not from every row.`
      : summary,
    drifted_features: enough ? drifted : [],
    drifted_share: enough && features.length > 0 ? drifted.length / features.length : 0,
    features,
    prediction,
    sources: inputs.sources,
    logging: {
      sample_rate: inputs.sampleRate,
      rows_counted: counts.n,
      rows_logged: counts.logged,
      from_sample: sampled,
    },
    duration_ms: inputs.durationMs,
  };
}

/** What every report starts with: which model, when, over which window, against which reference. */
function reportHeader(
  inputs: DriftInputs,
): Pick<DriftReport, 'format' | 'model' | 'version' | 'generated_at' | 'window' | 'reference'> {
  return {
    format: REPORT_FORMAT,
    model: inputs.model,
    version: inputs.version,
    generated_at: inputs.generatedAt.toISOString(),
    window: inputs.window,
    reference: inputs.reference,
  };
}

/** A PSI or noise floor for a person; a dash where there is none (no rows in the window). */
export function formatPsi(value: number | null, digits = 4): string {
  return value !== null && Number.isFinite(value) ? value.toFixed(digits) : '—';
}

/** Highest PSI first; distributions without one (no rows) last, in their order. */
function byPsiDescending(a: DistributionDrift, b: DistributionDrift): number {
  if (a.psi === null || b.psi === null) return a.psi === null ? (b.psi === null ? 0 : 1) : -1;
  return b.psi - a.psi;
}

/** A report without a comparison: no reference, or a baseline still being collected. */
export function emptyReport(inputs: DriftInputs, verdict: Verdict, summary: string, nCur = 0): DriftReport {
  return {
    ...reportHeader(inputs),
    thresholds: inputs.thresholds,
    n_ref: 0,
    n_cur: nCur,
    verdict,
    summary,
    drifted_features: [],
    drifted_share: 0,
    features: [],
    sources: inputs.sources,
    logging: { sample_rate: inputs.sampleRate, rows_counted: nCur, rows_logged: nCur, from_sample: false },
    duration_ms: inputs.durationMs,
  };
}
