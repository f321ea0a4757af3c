/**
 * Population Stability Index over frozen bins:
 *
 *   PSI = Σ (cur_i − ref_i) · ln(cur_i / ref_i)
 *
 * A share of exactly 0 (a bin the reference or the current window never saw) would make the logarithm infinite;
 * it is replaced by ZERO_SHARE in both factors before summing, so one empty bin weighs a lot, but finitely.
 */
export const ZERO_SHARE = 1e-4;

export function psi(reference: readonly number[], current: readonly number[]): number {
  if (reference.length !== current.length) {
    throw new Error(`PSI needs the same bins on both sides: ${reference.length} ≠ ${current.length}`);
  }
  return reference.reduce((sum, ref, i) => sum + psiContribution(ref, current[i]), 0);
}

/** One bin's term of the sum, so a report can show where the index comes from. */
export function psiContribution(reference: number, current: number): number {
  const ref = reference === 0 ? ZERO_SHARE : reference;
  const cur = current === 0 ? ZERO_SHARE : current;
  return (cur - ref) * Math.log(cur / ref);
}

/** Counts to shares; all zeros stay zeros (no rows: nothing to compare). */
export function sharesOf(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((count) => (total === 0 ? 0 : count / total));
}

/**
 * The PSI two samples of the same distribution show by chance alone, roughly: (bins − 1) · (1/n_ref + 1/n_cur).
 * A score near it says nothing; the thresholds are meaningful only well above it.
 */
export function noiseFloor(bins: number, nReference: number, nCurrent: number): number {
  if (nReference <= 0 || nCurrent <= 0) return Number.POSITIVE_INFINITY;
  return (bins - 1) * (1 / nReference + 1 / nCurrent);
}

export type DriftStatus = 'stable' | 'moderate' | 'drift';

export interface PsiThresholds {
  /** From here on a change is worth a look (DRIFT_PSI_WARN). */
  warn: number;
  /** Above this the distribution has drifted (DRIFT_PSI_ALERT). */
  alert: number;
}

/** Below warn stable, warn to alert moderate, above alert drift. */
export function statusOf(value: number, { warn, alert }: PsiThresholds): DriftStatus {
  if (value > alert) return 'drift';
  if (value >= warn) return 'moderate';
  return 'stable';
}
