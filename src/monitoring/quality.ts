import { LOG_LOSS_EPS, confusionMatrix, rocAuc, rocCurve } from "../ml/metrics/index.js";

/**
 * Classification quality of logged decisions whose outcomes are known: what the monitoring
 * report shows. Positive = `bad` (the class the model flags), as everywhere in the platform; a
 * row is predicted bad when its probability reaches the cut. Rates over an absent class are
 * null with a reason, never a crash or a silent 0.
 */

export interface ClassQuality {
  readonly precision: number | null;
  readonly recall: number | null;
  readonly f1: number | null;
  /** Rows actually of this class. */
  readonly support: number;
}

export interface QualityAtCut {
  /** Probability of bad from which a row is predicted bad. */
  readonly cut: number;
  readonly accuracy: number | null;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly f1: number | null;
  readonly tpr: number | null;
  readonly tnr: number | null;
  readonly fpr: number | null;
  readonly fnr: number | null;
  readonly confusion: {
    readonly tp: number;
    readonly fp: number;
    readonly tn: number;
    readonly fn: number;
  };
  readonly byClass: { readonly bad: ClassQuality; readonly good: ClassQuality };
}

export interface TopShareRow {
  /** The share of rows with the highest probabilities, 0.05 … 1. */
  readonly share: number;
  readonly count: number;
  /** The lowest probability among them. */
  readonly probabilityCut: number;
  readonly tp: number;
  readonly fp: number;
  readonly precision: number;
  readonly recall: number | null;
  /** precision ÷ the base rate of bad. */
  readonly lift: number | null;
}

export interface QualityReport {
  readonly rows: number;
  readonly bad: number;
  readonly good: number;
  /** At 0.5 and, when the model has its own threshold, at that threshold. */
  readonly atCuts: readonly QualityAtCut[];
  readonly rocAuc: number | null;
  readonly logLoss: number | null;
  readonly roc: readonly { fpr: number; tpr: number; threshold: number }[];
  readonly precisionRecall: readonly { recall: number; precision: number; threshold: number }[];
  readonly topShares: readonly TopShareRow[];
  /** Why a figure is null (one class absent, no rows). */
  readonly notes: string[];
}

const rate = (a: number, b: number): number | null => (b === 0 ? null : a / b);

function f1(precision: number | null, recall: number | null): number | null {
  if (precision === null || recall === null) return null;
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

function atCut(y: ArrayLike<number>, p: ArrayLike<number>, cut: number): QualityAtCut {
  const { tp, fp, tn, fn } = confusionMatrix(y, p, cut);
  const n = tp + fp + tn + fn;
  const precisionBad = rate(tp, tp + fp);
  const recallBad = rate(tp, tp + fn);
  const precisionGood = rate(tn, tn + fn);
  const recallGood = rate(tn, tn + fp);
  return {
    cut,
    accuracy: rate(tp + tn, n),
    precision: precisionBad,
    recall: recallBad,
    f1: f1(precisionBad, recallBad),
    tpr: recallBad,
    tnr: recallGood,
    fpr: rate(fp, fp + tn),
    fnr: rate(fn, fn + tp),
    confusion: { tp, fp, tn, fn },
    byClass: {
      bad: {
        precision: precisionBad,
        recall: recallBad,
        f1: f1(precisionBad, recallBad),
        support: tp + fn,
      },
      good: {
        precision: precisionGood,
        recall: recallGood,
        f1: f1(precisionGood, recallGood),
        support: tn + fp,
      },
    },
  };
}

function logLoss(y: ArrayLike<number>, p: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, p[i]));
    s -= y[i] ? Math.log(q) : Math.log(1 - q);
  }
  return s / y.length;
}

/** Precision–recall points, one per distinct probability, highest first. */
function precisionRecall(y: ArrayLike<number>, p: ArrayLike<number>, bad: number) {
  const order = Array.from({ length: y.length }, (_, i) => i).sort((a, b) => p[b] - p[a]);
  const points: { recall: number; precision: number; threshold: number }[] = [];
  let tp = 0;
  let taken = 0;
  let i = 0;
  while (i < order.length) {
    const s = p[order[i]];
    while (i < order.length && p[order[i]] === s) {
      if (y[order[i]]) tp++;
      taken++;
      i++;
    }
    points.push({ recall: tp / bad, precision: tp / taken, threshold: s });
  }
  return points;
}

/** Rows ranked by probability: what the top 5 %, 10 % … 100 % catch. */
function topShares(y: ArrayLike<number>, p: ArrayLike<number>, bad: number): TopShareRow[] {
  const order = Array.from({ length: y.length }, (_, i) => i).sort((a, b) => p[b] - p[a]);
  const base = bad / y.length;
  const out: TopShareRow[] = [];
  for (let step = 1; step <= 20; step++) {
    const share = step / 20;
    const count = Math.max(1, Math.round(share * y.length));
    let tp = 0;
    for (let k = 0; k < count; k++) if (y[order[k]]) tp++;
    const precision = tp / count;
    out.push({
      share,
      count,
      probabilityCut: p[order[count - 1]],
      tp,
      fp: count - tp,
      precision,
      recall: bad === 0 ? null : tp / bad,
      lift: base === 0 ? null : precision / base,
    });
  }
  return out;
}

/**
 * The quality of decisions with known outcomes. `outcomes`: 1 = bad, 0 = good; `probabilities`:
 * the model's probability of bad; `threshold`: the model's own decision threshold, evaluated
 * beside 0.5.
 *
 * @example qualityReport(Uint8Array.of(1, 0), Float64Array.of(0.8, 0.3), 0.35).rocAuc // 1
 */
export function qualityReport(
  outcomes: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  threshold?: number,
): QualityReport {
  if (outcomes.length !== probabilities.length) {
    throw new RangeError(`${outcomes.length} outcomes but ${probabilities.length} probabilities`);
  }
  const rows = outcomes.length;
  let bad = 0;
  for (let i = 0; i < rows; i++) if (outcomes[i]) bad++;
  const good = rows - bad;
  const notes: string[] = [];
  const cuts = threshold === undefined || threshold === 0.5 ? [0.5] : [0.5, threshold];
  if (rows === 0) notes.push("no decision has a known outcome yet");
  else if (bad === 0 || good === 0) {
    notes.push(
      `every known outcome is ${bad === 0 ? "good" : "bad"}: ROC AUC and the curves need both classes`,
    );
  }
  const bothClasses = bad > 0 && good > 0;
  return {
    rows,
    bad,
    good,
    atCuts: rows === 0 ? [] : cuts.map((c) => atCut(outcomes, probabilities, c)),
    rocAuc: bothClasses ? rocAuc(outcomes, probabilities) : null,
    logLoss: rows === 0 ? null : logLoss(outcomes, probabilities),
    roc: bothClasses ? rocCurve(outcomes, probabilities) : [],
    precisionRecall: bad > 0 ? precisionRecall(outcomes, probabilities, bad) : [],
    topShares: rows === 0 ? [] : topShares(outcomes, probabilities, bad),
    notes,
  };
}
