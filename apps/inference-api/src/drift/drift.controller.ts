import { ModelRegistry } from '@app/inference';
import { DriftCheck, DriftReport, DriftReports } from '@app/monitoring';
import { DomainError } from '@app/observability';
import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ProblemResponses, RequiresApiKey } from '../openapi';
import { DriftWindowQuery } from './drift.dto';

class DriftReportNotFoundError extends DomainError {
  constructor(model: string) {
    super({
      code: 'drift-report-not-found',
      status: 404,
      title: 'No drift report',
      detail: `No drift check has run for model "${model}" yet; POST /v1/models/${model}/drift runs one.`,
    });
  }
}

const REPORT_SCHEMA = {
  description:
    'The drift report: window, model and version, n_ref and n_cur, per-feature PSI, status, noise floor and bins, prediction drift, and the verdict (`no-drift`, `drift`, `insufficient-data`, `no-reference`).',
  schema: { type: 'object', additionalProperties: true },
};

/** Drift checks of a served model (two path segments, so they never meet `/v1/models/{name}:predict`). */
@ApiTags('drift')
@RequiresApiKey()
@Controller('v1/models/:name/drift')
export class DriftController {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly check: DriftCheck,
    private readonly reports: DriftReports,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Run the drift check now and return its report (also written to DRIFT_REPORT_DIR)',
  })
  @ApiParam({ name: 'name', example: 'seed_gbc' })
  @ApiOkResponse(REPORT_SCHEMA)
  @ProblemResponses(401, 404, 422, 503)
  async run(@Param('name') name: string, @Query() window: DriftWindowQuery): Promise<DriftReport> {
    const { report } = await this.check.run(name, window);
    return report;
  }

  @Get()
  @ApiOperation({ summary: 'The latest drift report of the model' })
  @ApiParam({ name: 'name', example: 'seed_gbc' })
  @ApiOkResponse(REPORT_SCHEMA)
  @ProblemResponses(401, 404)
  async latest(@Param('name') name: string): Promise<DriftReport> {
    // Unknown models are a 404 of their own, before the file system is asked.
    this.registry.status(name);
    const report = await this.reports.latest(name);
    if (!report) throw new DriftReportNotFoundError(name);
    return report;
  }
}
