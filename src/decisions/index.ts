/** The decision log: every credit decision, stored append-only and durable before the answer. */
export { DecisionLog, type DecisionLogOptions, type DecisionLogStats } from "./decision-log.js";
export { isDecisionId, newDecisionId } from "./decision-id.js";
export {
  DECISION_COLUMNS,
  TUPLE_INDEX,
  decisionValues,
  fromDecisionValues,
  toDecisionRow,
} from "./decision-rows.js";
export { openDecisionLog, type OpenDecisionLogOptions } from "./open-decision-log.js";
export { SqlDecisionStore } from "./sql-decision-store.js";
export {
  SqliteWorkerAppender,
  type SqliteWorkerAppenderOptions,
} from "./sqlite-worker-appender.js";
export * from "./types.js";
