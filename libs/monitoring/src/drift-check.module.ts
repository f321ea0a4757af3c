import { AppConfig } from '@app/config';
import { ModelCatalogModule } from '@app/inference';
import { Module } from '@nestjs/common';
import { AlertWebhook } from './alert-webhook';
import { DriftCheck } from './drift-check';
import { DriftReportStore } from './drift-report-store';
import { DiskLogStore, LogStore } from './log-store';
import { MONITORING_METRIC_PROVIDERS, MonitoringMetrics } from './monitoring-metrics';
import { PredictionLogReader } from './prediction-log-reader';
import { ReferenceProfileStore } from './reference-profile-store';

/**
 * The drift check and what it reads and writes; what the CLI needs without the prediction log writer. Models come
 * from the catalog alone: nothing here opens a session or starts a worker. The LogStore on PREDICTION_LOG_DIR is
 * provided here, for the reader, and exported for the server's prediction log, which writes the same store.
 */
@Module({
  imports: [ModelCatalogModule],
  providers: [
    ...MONITORING_METRIC_PROVIDERS,
    MonitoringMetrics,
    ReferenceProfileStore,
    {
      provide: LogStore,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new DiskLogStore(config.get('PREDICTION_LOG_DIR')),
    },
    PredictionLogReader,
    DriftReportStore,
    AlertWebhook,
    DriftCheck,
  ],
  exports: [
    LogStore,
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
