import { ModelCatalogModule } from '@app/inference';
import { Module } from '@nestjs/common';
import { AlertWebhook } from './alert-webhook';
import { DriftCheck } from './drift-check';
import { DriftReportStore } from './drift-report-store';
import { MONITORING_METRIC_PROVIDERS, MonitoringMetrics } from './monitoring-metrics';
import { PredictionLogReader } from './prediction-log-reader';
import { ReferenceProfileStore } from './reference-profile-store';

/**
 * The drift check and what it reads and writes; what the CLI needs without the prediction log writer. Models come
 * from the catalog alone: nothing here opens a session or starts a worker.
 */
@Module({
  imports: [ModelCatalogModule],
  providers: [
    ...MONITORING_METRIC_PROVIDERS,
    MonitoringMetrics,
    ReferenceProfileStore,
    PredictionLogReader,
    DriftReportStore,
    AlertWebhook,
    DriftCheck,
  ],
  exports: [
    ModelCatalogModule,
    MonitoringMetrics,
    ReferenceProfileStore,
    PredictionLogReader,
    DriftReportStore,
    AlertWebhook,
    DriftCheck,
  ],
})
export class DriftCheckModule {}
