/**
 * Flows: the training flow (tune, compare, track, register), and scheduled flows (definitions,
 * runs, schedules, the job queue and the worker that runs them).
 */
export { BUILTIN_FLOWS, DRIFT_REPORT_FLOW, RETRAIN_FLOW } from "./builtin-flows.js";
export { type FlowContext, type FlowDefinition, checkParams } from "./flow-definition.js";
export { FlowRunner, type FlowNotification, defaultWorkerName } from "./flow-runner.js";
export { needsFirstModel, trainFirstModel } from "./first-model.js";
export { SqlFlowStore } from "./flow-store.js";
export * from "./flow-types.js";
export { FlowWorker, type FlowSchedule } from "./flow-worker.js";
export {
  type FlowInfo,
  type Flows,
  describeFlows,
  flowSchedules,
  flowWorker,
  lockFlows,
  openFlows,
  openJobQueue,
  triggerFlow,
} from "./open-flows.js";
export type { FlowJob, JobQueue } from "./queue/job-queue.js";
export {
  LATE_POLICIES,
  type LatePolicy,
  type Schedule,
  describeSchedule,
  nextRun,
  parseSchedule,
} from "./schedule.js";
export {
  runTrainFlow,
  type CandidateRunSummary,
  type TrainFlowOptions,
  type TrainFlowResult,
} from "./train-flow.js";
