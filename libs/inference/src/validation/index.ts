export {
  allowedDifference,
  checkFitsModel,
  compareOutputs,
  describeDeviation,
  type Deviation,
  isClose,
  type OutputCheck,
  shortNumber,
  type Tolerance,
  toleranceOf,
  type ValidationReport,
  worstFailure,
} from './compare-outputs';
export { ModelRefusedError, ParityGate, type VersionToAdmit } from './parity-gate';
export {
  DEFAULT_TOLERANCE,
  InvalidValidationFileError,
  parseValidationFile,
  readValidationFile,
  type ValidationFile,
  validationPathOf,
} from './validation-file';
