/**
 * Data access for the rest of the project: dataset specs, reading training data and
 * applicant files (ARFF, CSV), validation, and CSV writing helpers. Other folders import from
 * here only.
 */
export {
  COLUMN_KINDS,
  DEFAULT_COSTS,
  DEFAULT_MISSING_VALUES,
  SPEC_FORMAT,
  SPEC_FORMAT_VERSION,
  categoryIndex,
  costMatrix,
  describeValue,
  featureColumns,
  isFeature,
  labelFromName,
  missingTexts,
  otherIndex,
  riskIndex,
  safeClass,
  valueLabel,
  type CategoricalColumn,
  type CategoryValue,
  type Column,
  type ColumnKind,
  type Costs,
  type DatasetSpec,
  type FairnessAttribute,
  type FairnessGroup,
  type FeatureColumn,
  type IdColumn,
  type IgnoredColumn,
  type NumericColumn,
  type TargetSpec,
} from "./spec.js";
export {
  BUNDLED_SPECS,
  SPEC_JSON_SCHEMA,
  bundledSpec,
  checkSpec,
  loadSpecFile,
  parseSpec,
  specToJson,
} from "./spec-check.js";
export { specFromLegacySchema } from "./legacy-schema.js";
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_DATA_PATH,
  digestFile,
  forEachRecord,
  formatFromPath,
  readApplicants,
  readDataset,
  type ApplicantBatch,
  type DataFormat,
  type Dataset,
  type ReadApplicantsOptions,
  type ReadOptions,
} from "./dataset.js";
export {
  defaultSpec,
  featureSpecs,
  LABEL_UNKNOWN,
  normalizeName,
  RecordValidator,
  validateApplicant,
  type ApplicantResult,
  type BatchBuilder,
  type KeepOptions,
  type LabelMode,
  type RowError,
  type RowErrorKind,
  type ValidatedBatch,
  type ValidateOptions,
  type ValidatorOptions,
} from "./validate.js";
export { MAX_LISTED_ERRORS, RowErrorTally, type RowErrorCounts } from "./row-errors.js";
export {
  ByteText,
  CsvParser,
  detectSeparator,
  escapeCsvCell,
  fieldsToStrings,
  formatCsvRow,
  isNumberText,
  openCsv,
  type CsvFieldSink,
  type CsvInput,
  type CsvParserOptions,
  type CsvRecordBatch,
  type CsvSeparator,
  type FieldSink,
  type ScannedRecord,
} from "./csv.js";
export {
  openArff,
  readArff,
  type ArffAttribute,
  type ArffDataRow,
  type ArffHeader,
  type ArffInput,
} from "./arff.js";
export type { DataSource } from "./source.js";
export {
  type ChoiceNames,
  type DatasetChoice,
  formatRowErrors,
  loadTrainingData,
  type LoadTrainingOptions,
  resolveDatasetSpec,
  type TrainingData,
} from "./training-data.js";
export { readXlsxApplicants, type ReadXlsxOptions } from "./xlsx.js";
export { inferSpec, type ColumnDecision, type InferOptions, type InferResult } from "./infer.js";
