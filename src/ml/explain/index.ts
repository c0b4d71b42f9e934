/**
 * Per-applicant explanations: exact additive contributions per feature (linear terms for the
 * logistic model, path-dependent TreeSHAP for the trees) and the readable reasons drawn from
 * them.
 */
export {
  createExplainer,
  explainRow,
  type Explainer,
  type Explanation,
  type ExplanationSpace,
} from "./explainer.js";
export { reasonFor, topFeatures, topReasons, type Reason } from "./reasons.js";
export { TreeShap } from "./tree-shap.js";
