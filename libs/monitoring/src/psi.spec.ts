import { noiseFloor, psi, psiContribution, statusOf, ZERO_SHARE } from './psi';

describe('psi', () => {
  it.each([
    [[0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4], 0.228217],
    [[0.5, 0.3, 0.2], [0.4, 0.35, 0.25], 0.041179],
    [[0.5, 0.5, 0], [0.4, 0.4, 0.2], 1.564049],
  ])('PSI(%j, %j) = %f to 6 decimals', (reference, current, expected) => {
    expect(psi(reference, current).toFixed(6)).toBe(expected.toFixed(6));
  });

  it('is 0 for identical distributions and grows with the change', () => {
    expect(psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5])).toBe(0);
    expect(psi([0.5, 0.5], [0.4, 0.6])).toBeLessThan(psi([0.5, 0.5], [0.2, 0.8]));
  });

  it(`replaces an empty share by ${ZERO_SHARE} in both factors of its term`, () => {
    expect(psiContribution(0, 0.2)).toBeCloseTo((0.2 - ZERO_SHARE) * Math.log(0.2 / ZERO_SHARE), 12);
    expect(psiContribution(0.2, 0)).toBeCloseTo((ZERO_SHARE - 0.2) * Math.log(ZERO_SHARE / 0.2), 12);
    expect(Number.isFinite(psi([1, 0], [0, 1]))).toBe(true);
  });

  it('refuses shares on different bins', () => {
    expect(() => psi([0.5, 0.5], [1])).toThrow(/same bins/);
  });

  it('gives the noise floor (bins − 1)·(1/n_ref + 1/n_cur)', () => {
    expect(noiseFloor(10, 1000, 500)).toBeCloseTo(9 * (1 / 1000 + 1 / 500), 12);
    expect(noiseFloor(3, 100, 100)).toBeCloseTo(0.04, 12);
  });

  it('has no noise floor to offer for an empty side, even with one bin (where the formula gives 0 · ∞ = NaN)', () => {
    for (const bins of [1, 10]) {
      expect(noiseFloor(bins, 0, 500)).toBe(Number.POSITIVE_INFINITY);
      expect(noiseFloor(bins, 500, 0)).toBe(Number.POSITIVE_INFINITY);
    }
    expect(noiseFloor(1, 500, 500)).toBe(0);
  });

  it('names the status with the thresholds: below warn stable, up to alert moderate, above drift', () => {
    const thresholds = { warn: 0.1, alert: 0.2 };
    expect(statusOf(0.099, thresholds)).toBe('stable');
    expect(statusOf(0.1, thresholds)).toBe('moderate');
    expect(statusOf(0.2, thresholds)).toBe('moderate');
    expect(statusOf(0.2001, thresholds)).toBe('drift');
    expect(statusOf(0.12, { warn: 0.15, alert: 0.3 })).toBe('stable');
  });
});
