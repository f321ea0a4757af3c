/** What the apps, the CLI and the end-to-end specs use of monitoring; the rest stays inside the library. */
export { AlertWebhook, type DriftAlert, driftAlertOf, WEBHOOK_RETRY_DELAYS_MS } from './alert-webhook';
export { binCount } from './binning';
export { BinCounter, readCountSummary } from './count-summary';
export {
  DriftCheck,
  type DriftOutcome,
  type DriftRequest,
  exitCodeOf,
  InvalidWindowError,
  type WindowRequest,
  windowDays,
} from './drift-check';
export { DriftCheckModule } from './drift-check.module';
export { buildDriftReport, type DriftInputs, type DriftReport, formatPsi } from './drift-report';
export { DriftReportStore, type ReportFile, type WrittenReport } from './drift-report-store';
export { DriftReportPublisher, REPORT_REFRESH_MS } from './drift-report-publisher';
export { DRIFT_JOB, DriftScheduler } from './drift-scheduler';
export { escapeHtml, renderHtmlReport } from './html-report';
export { countsFileName, dayOf, defaultHost, listLogFiles, logFileName, parseLogFileName } from './log-files';
export { type LoggedPrediction, parseRecords } from './log-record';
export { MonitoringModule } from './monitoring.module';
export { BOUNDED_SEARCH } from './order-statistics';
export { MAX_PENDING_ROWS, PREDICTION_LOG_HOST, PredictionLog } from './prediction-log';
export { countLogDays, type CountSources, PredictionLogReader } from './prediction-log-reader';
export {
  type ObservedOutput,
  parseReferenceProfile,
  type ReferenceProfile,
  ReferenceProfileBuilder,
} from './reference-profile';
export {
  type LoadedReference,
  REFERENCE_FILE,
  referencePathOf,
  ReferenceProfileStore,
} from './reference-profile-store';
export { readTrainingData, type TrainingRow } from './training-data';
export { ValueSpool } from './value-spool';
