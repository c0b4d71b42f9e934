/** Experiment tracking: experiments, runs, params, metrics, inputs, artifacts and run search. */
export { SqlTrackingStore, isUniqueViolation, newId } from "./sql-tracking-store.js";
export {
  ActiveRun,
  TrackingService,
  codeVersion,
  mediaTypeOf,
  processOwner,
  runArtifactKey,
  type TrackingServiceOptions,
} from "./tracking-service.js";
export {
  RUN_ATTRIBUTES,
  parseOrderBy,
  parseRunFilter,
  type Field,
  type FilterNode,
  type OrderKey,
} from "./search-filter.js";
export * from "./types.js";
