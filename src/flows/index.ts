/** Flows: the training flow (tune, compare, track, register). */
export {
  runTrainFlow,
  type CandidateRunSummary,
  type TrainFlowOptions,
  type TrainFlowResult,
} from "./train-flow.js";
