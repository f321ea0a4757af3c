import { AppConfig } from '@app/config';
import { InferenceModule, PredictionSink } from '@app/inference';
import { Global, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { DriftCheckModule } from './drift-check.module';
import { DriftReportPublisher } from './drift-report-publisher';
import { DriftScheduler } from './drift-scheduler';
import { processHost } from './log-files';
import { PREDICTION_LOG_HOST, PredictionLog } from './prediction-log';

/**
 * Monitoring for the server: the prediction log (bound as the inference library's PredictionSink; global so
 * PredictionService's optional injection finds it; one file per HTTP worker, in DriftCheckModule's LogStore on PREDICTION_LOG_DIR),
 * the scheduled drift check, the check itself for the HTTP endpoints, and the publisher that shows reports written
 * by a CronJob in the metrics.
 */
@Global()
@Module({
  imports: [ScheduleModule.forRoot(), InferenceModule, DriftCheckModule],
  providers: [
    {
      provide: PREDICTION_LOG_HOST,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => processHost(config.get('HTTP_WORKER_INDEX')),
    },
    PredictionLog,
    { provide: PredictionSink, useExisting: PredictionLog },
    DriftScheduler,
    DriftReportPublisher,
  ],
  exports: [PredictionSink, PredictionLog, DriftCheckModule],
})
export class MonitoringModule {}
