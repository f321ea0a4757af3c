export { AlertWebhook, type DriftAlert, driftAlertOf, WEBHOOK_RETRY_DELAYS_MS } from './alert-webhook';
export * from './binning';
export * from './count-summary';
export {
  DriftCheck,
  type DriftOutcome,
  exitCodeOf,
  InvalidWindowError,
  type WindowRequest,
  windowDays,
} from './drift-check';
export { DriftCheckModule } from './drift-check.module';
export * from './drift-report';
export { DriftReports, type ReportFile, type WrittenReport } from './drift-reports';
export { DriftReportPublisher, REPORT_REFRESH_MS } from './drift-report-publisher';
export { DRIFT_JOB, DriftScheduler } from './drift-scheduler';
export { escapeHtml, renderHtmlReport } from './html-report';
export * from './log-files';
export * from './log-record';
export * from './monitoring-metrics';
export { MonitoringModule } from './monitoring.module';
export { MAX_PENDING_ROWS, PREDICTION_LOG_HOST, PredictionLog } from './prediction-log';
export { countLogDays, type CountSources, PredictionLogReader } from './prediction-log-reader';
export * from './psi';
export * from './reference-profile';
export {
  type LoadedReference,
  REFERENCE_FILE,
  referencePathOf,
  ReferenceProfiles,
} from './reference-profiles';
export * from './training-data';
