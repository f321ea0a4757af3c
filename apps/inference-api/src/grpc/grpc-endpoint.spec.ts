import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openInferenceProtoPath } from './grpc-endpoint';

describe('openInferenceProtoPath', () => {
  it("finds the repository's vendored .proto from the sources", () => {
    const found = openInferenceProtoPath();
    expect(found).toBe(resolve(__dirname, '../../../../proto/open_inference_grpc.proto'));
    expect(readFileSync(found, 'utf8')).toContain('service GRPCInferenceService');
  });

  it("finds it beside the image's dist/, from the bundle's folder", () => {
    const app = mkdtempSync(join(tmpdir(), 'image-'));
    mkdirSync(join(app, 'proto'));
    mkdirSync(join(app, 'dist'));
    writeFileSync(join(app, 'proto/open_inference_grpc.proto'), 'syntax = "proto3";');
    expect(openInferenceProtoPath(join(app, 'dist'))).toBe(join(app, 'proto/open_inference_grpc.proto'));
  });

  it('names the file it looked for when there is none', () => {
    const nowhere = mkdtempSync(join(tmpdir(), 'no-proto-'));
    expect(() => openInferenceProtoPath(nowhere)).toThrow(
      `proto/open_inference_grpc.proto not found in ${nowhere} or any folder above it`,
    );
  });
});
