/**
 * Data access for the rest of the project: the credit schema, reading training data and
 * applicant files (ARFF, CSV), validation, and CSV writing helpers. Other folders import from
 * here only.
 */
export {
  CREDIT_SCHEMA,
  categoryIndex,
  describeValue,
  type CategoricalColumn,
  type CategoryValue,
  type Column,
  type CreditSchema,
  type NumericColumn,
} from "./schema.js";
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_DATA_PATH,
  digestFile,
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
export { formatRowErrors, loadTrainingData, type TrainingData } from "./training-data.js";
export { readXlsxApplicants, type ReadXlsxOptions } from "./xlsx.js";
