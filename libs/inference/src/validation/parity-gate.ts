import { AppConfig } from '@app/config';
import { InferenceMetrics } from '@app/observability';
import { Injectable, Logger } from '@nestjs/common';
import { type AdaptedModel, interpretOutputs } from '../onnx';
import { openSession, runSession, type SessionSpec } from '../runtime/session';
import { concatRows, type OutputTensors, toInputArray } from '../runtime/tensors';
import {
  checkFitsModel,
  compareOutputs,
  describeDeviation,
  shortNumber,
  type ValidationReport,
  worstFailure,
} from './compare-outputs';
import {
  InvalidValidationFileError,
  readValidationFile,
  type ValidationFile,
  validationPathOf,
} from './validation-file';

/** A model version about to take traffic. */
export interface VersionToAdmit {
  name: string;
  version: string;
  /** The .onnx file. */
  path: string;
  /** Its validation file, when there is one. */
  validation?: string;
}

/** A version the gate refused: it must not take traffic. The message names the version and why. */
export class ModelRefusedError extends Error {
  constructor(
    readonly model: string,
    readonly version: string,
    readonly reason: string,
    readonly report?: ValidationReport,
  ) {
    super(`model "${model}" version ${version} refused: ${reason}`);
    this.name = 'ModelRefusedError';
  }
}

/**
 * The parity gate: a version's validation.json rows go through the model as the service runs requests (the graph as
 * adapted for serving, an onnxruntime session with the service's options, the same input tensors, the same reading
 * of the outputs) and what comes out must match what the training framework gave. The start-up load uses `admit`;
 * the CLI uses `validate`; a hot reload would call `admit` before switching a version in.
 *
 * The rows run on a session of their own, opened and released here: the runner's sessions serve traffic and count
 * every run in the inference metrics, and a refused version should never have been handed to them.
 */
@Injectable()
export class ParityGate {
  private readonly logger = new Logger(ParityGate.name);

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: InferenceMetrics,
  ) {}

  /**
   * Whether a version may take traffic. Resolves with what was compared (undefined: no validation file, and none
   * required); throws ModelRefusedError, after an error log line and a count in model_validation_failures_total,
   * when the outputs are off, the file is unusable, or it is missing while REQUIRE_VALIDATION is set.
   */
  async admit(version: VersionToAdmit, model: AdaptedModel): Promise<ValidationReport | undefined> {
    const where = { model: version.name, modelVersion: version.version };
    if (version.validation === undefined) {
      if (!this.config.get('REQUIRE_VALIDATION')) return undefined;
      const expected = validationPathOf(version.path);
      this.refuse(
        new ModelRefusedError(
          version.name,
          version.version,
          `REQUIRE_VALIDATION is set and there is no ${expected} to check it against`,
        ),
        { ...where, validation: expected },
      );
    }
    const path = version.validation;
    let report: ValidationReport;
    try {
      report = await this.validate(model, await readValidationFile(path), path);
    } catch (error) {
      if (!(error instanceof InvalidValidationFileError)) throw error;
      this.refuse(new ModelRefusedError(version.name, version.version, error.message), {
        ...where,
        validation: path,
      });
    }
    if (report.passed) return report;

    const worst = worstFailure(report)!;
    const { row, column, expected, got, difference, allowed } = worst.deviation;
    this.refuse(
      new ModelRefusedError(
        version.name,
        version.version,
        `its outputs differ from ${path}: ${worst.check.failed} of ${worst.check.compared} ${worst.check.field} off ` +
          `(atol ${shortNumber(report.tolerance.atol)}, rtol ${shortNumber(report.tolerance.rtol)}); worst ${describeDeviation(worst.check.field, worst.deviation)}`,
        report,
      ),
      {
        ...where,
        validation: path,
        field: worst.check.field,
        row,
        ...(column !== undefined ? { column } : {}),
        expected,
        got,
        ...(difference !== undefined ? { difference, allowed } : {}),
        failed: worst.check.failed,
        compared: worst.check.compared,
      },
    );
  }

  /**
   * Runs a validation file's rows through the model and compares. Throws InvalidValidationFileError when the file
   * does not fit the model (feature count, classes, outputs), before or after the run.
   */
  async validate(model: AdaptedModel, file: ValidationFile, path: string): Promise<ValidationReport> {
    const asFileProblem = (error: unknown): never => {
      throw new InvalidValidationFileError(path, error instanceof Error ? error.message : String(error));
    };
    try {
      checkFitsModel(file, model.signature);
    } catch (error) {
      asFileProblem(error);
    }
    const outputs = await this.run(model, file.inputs);
    const predictions = interpretOutputs(model.signature, outputs, file.inputs.length);
    try {
      return compareOutputs(file, model.signature, predictions, outputs);
    } catch (error) {
      return asFileProblem(error);
    }
  }

  private refuse(error: ModelRefusedError, fields: Record<string, unknown>): never {
    this.metrics.countValidationFailure(error.model, error.version);
    this.logger.error(fields, error.message);
    throw error;
  }

  /** One run of every row (in chunks of a fixed batch size, as the runner feeds such graphs). */
  private async run({ bytes, signature }: AdaptedModel, rows: number[][]): Promise<OutputTensors> {
    const configured = this.config.get('INFERENCE_THREADS');
    const { session } = await openSession(bytes, {
      threads: configured > 0 ? configured : 1,
      providers: this.config.get('ORT_EXECUTION_PROVIDERS'),
    });
    const spec: SessionSpec = {
      inputName: signature.input.name,
      inputType: signature.input.type,
      featureCount: signature.featureCount,
      fixedBatchSize: signature.fixedBatchSize,
    };
    try {
      const chunk = signature.fixedBatchSize ?? rows.length;
      const runs: OutputTensors[] = [];
      for (let start = 0; start < rows.length; start += chunk) {
        const part = rows.slice(start, start + chunk);
        runs.push(
          await runSession(session, spec, toInputArray(spec.inputType, part, spec.featureCount), part.length),
        );
      }
      return concatRows(runs);
    } finally {
      await session.release();
    }
  }
}
