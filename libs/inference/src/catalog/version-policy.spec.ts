import { defaultVersionAmong, describePolicy, parseModelConfig, selectVersions } from './version-policy';

const ON_DISK = ['10', '2', '1', '9'];

describe('version policies', () => {
  it('serves the highest version by default, as Triton does', () => {
    const { policy, defaultVersion } = parseModelConfig({});
    expect(describePolicy(policy)).toBe('latest 1');
    expect(defaultVersion).toBeUndefined();
    expect(selectVersions(policy, ON_DISK)).toEqual(['10']);
  });

  it('selects the latest N in numeric order, every version, or those named', () => {
    const select = (value: unknown) =>
      selectVersions(parseModelConfig({ version_policy: value }).policy, ON_DISK);
    expect(select({ latest: 2 })).toEqual(['9', '10']);
    expect(select({ latest: 9 })).toEqual(['1', '2', '9', '10']);
    expect(select({ all: true })).toEqual(['1', '2', '9', '10']);
    expect(select({ specific: [10, '1', 7] })).toEqual(['1', '10']);
  });

  it('reads the pinned default as a number or its digits', () => {
    expect(parseModelConfig({ default_version: 2 }).defaultVersion).toBe('2');
    expect(parseModelConfig({ default_version: '02' }).defaultVersion).toBe('2');
  });

  it('defaults to the pinned version when it is served, else the highest served', () => {
    expect(defaultVersionAmong(['1', '2', '10'])).toBe('10');
    expect(defaultVersionAmong(['1', '2', '10'], '2')).toBe('2');
    expect(defaultVersionAmong(['1', '10'], '2')).toBe('10');
    expect(defaultVersionAmong([], '2')).toBeUndefined();
  });
});
