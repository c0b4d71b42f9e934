/**
 * Scoring: the one path from a validated applicant to a decision (validate → score → explain →
 * encode → log), called by the routes, `riskometer predict` and their worker threads.
 */
export {
  type DecidedBatch,
  Decider,
  type DeciderModel,
  type DecisionObserver,
  type DecisionRequest,
  type DecisionSink,
} from "./decider.js";
export {
  type DecidingModel,
  type DecisionContext,
  DecisionEncoder,
  type DecisionPlace,
} from "./decision-encoder.js";
export { SCORING_JOBS, type DecideBatchInput, decideBatch } from "./jobs.js";
export { REASONS, Scorer, type ScorerSource, type TopReasons, topReasonsBuffer } from "./scorer.js";
