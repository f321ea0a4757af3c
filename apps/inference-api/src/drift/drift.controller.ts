import { ModelCatalog } from '@app/inference';
import { DriftCheck, DriftReport, DriftReportStore } from '@app/monitoring';
import { DomainError } from '@app/observability';
import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ProblemResponses, RequiresApiKey } from '../openapi';
import { DriftVersionQuery, DriftWindowQuery } from './drift.dto';

class DriftReportNotFoundError extends DomainError {
  constructor(model: string, version?: string) {
    const which = version === undefined ? `model "${model}"` : `version ${version} of model "${model}"`;
    const query = version === undefined ? '' : `?version=${version}`;
    super({
      code: 'drift-report-not-found',
      status: 404,
      title: 'No drift report',
      detail: `No drift check has run for ${which} yet; POST /v1/models/${model}/drift${query} runs one.`,
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
    private readonly catalog: ModelCatalog,
    private readonly check: DriftCheck,
    private readonly reports: DriftReportStore,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Run the drift check now, of the default version or of `version`, and return its report (also written to DRIFT_REPORT_DIR)',
  })
  @ApiParam({ name: 'name', example: 'seed_gbc' })
  @ApiOkResponse(REPORT_SCHEMA)
  @ProblemResponses(401, 404, 422, 503)
  async run(@Param('name') name: string, @Query() window: DriftWindowQuery): Promise<DriftReport> {
    const { report } = await this.check.run(name, window);
    return report;
  }

  @Get()
  @ApiOperation({ summary: 'The latest drift report of the model (of its default version, or of `version`)' })
  @ApiParam({ name: 'name', example: 'seed_gbc' })
  @ApiOkResponse(REPORT_SCHEMA)
  @ProblemResponses(401, 404, 422)
  async latest(@Param('name') name: string, @Query() query: DriftVersionQuery): Promise<DriftReport> {
    // An unknown model or version is a 404 of its own, before the report folder is asked.
    const entry = await this.catalog.find(name, query.version);
    // The default version's reports are the model's own; another version's are in a folder of its own.
    const file = await this.reports.newest(name, entry.isDefault ? undefined : entry.source.version);
    if (!file) throw new DriftReportNotFoundError(name, query.version);
    return this.reports.read(file.path);
  }
}
