import { InferenceModule, PredictionSink } from '@app/inference';
import { Global, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { DriftCheckModule } from './drift-check.module';
import { DriftReportPublisher } from './drift-report-publisher';
import { DriftScheduler } from './drift-scheduler';
import { PredictionLog } from './prediction-log';

/**
 * Monitoring for the server: the prediction log (bound as the inference library's PredictionSink; global so
 * PredictionService's optional injection finds it), the scheduled drift check, the check itself for the
 * HTTP endpoints, and the publisher that shows reports written by a CronJob in the metrics.
 */
@Global()
@Module({
  imports: [ScheduleModule.forRoot(), InferenceModule, DriftCheckModule],
  providers: [
    PredictionLog,
    { provide: PredictionSink, useExisting: PredictionLog },
    DriftScheduler,
    DriftReportPublisher,
  ],
  exports: [PredictionSink, PredictionLog, DriftCheckModule],
})
export class MonitoringModule {}
