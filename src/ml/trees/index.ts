/**
 * The histogram tree learner shared by the forest and the gradient-boosted trees: binning
 * (binning.ts), histograms (histogram.ts), split finding (split.ts), growth (learner.ts), the tree
 * (tree.ts), packed scoring (predict.ts), JSON (serialize.ts) and what a fitted ensemble needs
 * from its trees (ensemble.ts).
 */
export { BinMapper, type BinnedMatrix, DEFAULT_MAX_BINS, NUMERIC, CATEGORICAL } from "./binning.js";
export { TreeLearner, type TreeParams, DEFAULT_TREE_PARAMS } from "./learner.js";
export { Tree } from "./tree.js";
export { PackedTrees } from "./predict.js";
export { type TreeJSON, treeToJSON, treeFromJSON } from "./serialize.js";
export { TreeEnsemble, TREE_MODEL_VERSION } from "./ensemble.js";
