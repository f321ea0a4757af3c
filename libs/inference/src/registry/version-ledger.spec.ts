import type { CatalogModel, ModelSource } from '../catalog';
import { VersionLedger } from './version-ledger';

function source(name: string, version: string, fingerprint = `${name}-${version}-a`): ModelSource {
  return { name, version, path: `/models/${name}/${version}/model.onnx`, reference: '', fingerprint };
}

function catalogModel(name: string, versions: string[]): CatalogModel {
  const available = versions.map((v) => source(name, v));
  return { name, available, policy: { latest: 1 }, served: available.slice(-1) };
}

describe('VersionLedger', () => {
  it('knows which versions load right now, by model and by version', () => {
    const ledger = new VersionLedger();
    ledger.startLoading(source('iris', '2'));
    expect(ledger.isVersionLoading('iris', '2')).toBe(true);
    expect(ledger.isVersionLoading('iris', '1')).toBe(false);
    expect(ledger.isModelLoading('iris')).toBe(true);
    // A name that merely starts like another is another model.
    expect(ledger.isModelLoading('iri')).toBe(false);
    ledger.doneLoading(source('iris', '2'));
    expect(ledger.isModelLoading('iris')).toBe(false);
  });

  it('remembers a failure with the files it failed on, so only changed files are tried again', () => {
    const ledger = new VersionLedger();
    ledger.recordFailure(source('iris', '2', 'old-files'), 'bad graph');
    expect(ledger.failedOn(source('iris', '2', 'old-files'))).toBe(true);
    expect(ledger.failedOn(source('iris', '2', 'new-files'))).toBe(false);
    expect(ledger.failureOf('iris', '2')).toBe('bad graph');
    expect(ledger.failureOf('iris', '1')).toBeUndefined();
    ledger.recordFailure(source('iris', '3'), 'refused by the parity gate');
    ledger.recordFailure(source('gbc', '1'), 'unreadable');
    expect(ledger.failuresOf('iris')).toEqual(['bad graph', 'refused by the parity gate']);
    ledger.clearFailure(source('iris', '2'));
    expect(ledger.failuresOf('iris')).toEqual(['refused by the parity gate']);
    ledger.clearFailures('iris');
    expect(ledger.failuresOf('iris')).toEqual([]);
    expect(ledger.failuresOf('gbc')).toEqual(['unreadable']);
  });

  it('keeps unloads through the repository API until a load through it reinstates them', () => {
    const ledger = new VersionLedger();
    ledger.unloadVersion('iris', '2');
    ledger.unloadVersion('iris', '3');
    expect(ledger.isExcluded('iris', '2')).toBe(true);
    expect(ledger.isExcluded('iris', '1')).toBe(false);
    ledger.reinstate('iris', '2');
    expect(ledger.isExcluded('iris', '2')).toBe(false);
    expect(ledger.isExcluded('iris', '3')).toBe(true);
    ledger.unloadModel('iris');
    expect(ledger.isUnloaded('iris')).toBe(true);
    // A load of the whole model undoes both kinds.
    ledger.reinstate('iris');
    expect(ledger.isUnloaded('iris')).toBe(false);
    expect(ledger.isExcluded('iris', '3')).toBe(false);
  });

  it('says why a version that is not served is not, in the order an operator needs', () => {
    const ledger = new VersionLedger();
    const iris = catalogModel('iris', ['1', '2', '3', '4']);
    const selected = new Set(['3', '4']);
    ledger.startLoading(source('iris', '4'));
    ledger.unloadVersion('iris', '2');
    ledger.recordFailure(source('iris', '3'), 'cannot load model "iris" version 3: bad graph');
    expect(ledger.stateOf(iris, '4', selected)).toEqual({ state: 'LOADING', reason: '' });
    expect(ledger.stateOf(iris, '2', selected)).toEqual({
      state: 'UNAVAILABLE',
      reason: 'unloaded through the repository API',
    });
    expect(ledger.stateOf(iris, '3', selected)).toEqual({
      state: 'UNAVAILABLE',
      reason: 'cannot load model "iris" version 3: bad graph',
    });
    expect(ledger.stateOf(iris, '1', selected)).toEqual({
      state: 'UNAVAILABLE',
      reason: 'not among the versions its version_policy (latest 1) serves',
    });
    ledger.doneLoading(source('iris', '4'));
    expect(ledger.stateOf(iris, '4', selected)).toEqual({
      state: 'UNAVAILABLE',
      reason: 'not loaded yet: found since the last scan',
    });
    ledger.unloadModel('iris');
    expect(ledger.stateOf(iris, '4', selected).reason).toBe('unloaded through the repository API');
  });
});
