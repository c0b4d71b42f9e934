/**
 * Fairness of credit decisions between groups of applicants: the approval-rate ratio (disparate
 * impact) and the equal-opportunity difference, with the counts behind them, so that a small
 * group shows as small instead of as a confident number.
 */

/** One decision as fairness needs it. */
export interface FairnessRow {
  readonly age: number;
  readonly foreignWorker: string;
  /** The decision: approved (risk `good`) or refused. */
  readonly approved: boolean;
  /** What happened, when known: `good` (repaid) or `bad`. */
  readonly outcome: "good" | "bad" | null;
}

/** A group's counts and rates. */
export interface GroupStats {
  readonly group: string;
  readonly decisions: number;
  readonly approved: number;
  /** approved / decisions; null without decisions. */
  readonly approvalRate: number | null;
  /** Decisions whose outcome is known to be good (creditworthy applicants). */
  readonly goodOutcomes: number;
  /** Approved among those: the true-positive rate of approving; null without any. */
  readonly truePositiveRate: number | null;
  /** Fewer than `SMALL_GROUP` decisions: read its rates with care. */
  readonly small: boolean;
}

export interface FairnessComparison {
  /** What splits the applicants, e.g. `age` or `foreign_worker`. */
  readonly attribute: string;
  /** The group compared (conventionally the protected one) and the reference group. */
  readonly group: GroupStats;
  readonly reference: GroupStats;
  /**
   * Approval rate of `group` ÷ that of `reference` (disparate impact; 1 is parity, below 0.8
   * fails the four-fifths rule). Null, with `why`, when a rate is missing or the reference's is 0.
   */
  readonly approvalRateRatio: number | null;
  /** TPR of `group` − TPR of `reference` (0 is parity); null, with `why`, without outcomes. */
  readonly equalOpportunityDifference: number | null;
  readonly why: string[];
}

/** Below this many decisions a group is flagged small. */
export const SMALL_GROUP = 30;

/** The age that splits young applicants from the rest (German credit's usual cut). */
export const YOUNG_BELOW = 25;

function stats(group: string, rows: readonly FairnessRow[]): GroupStats {
  const approved = rows.filter((r) => r.approved).length;
  const good = rows.filter((r) => r.outcome === "good");
  const goodApproved = good.filter((r) => r.approved).length;
  return {
    group,
    decisions: rows.length,
    approved,
    approvalRate: rows.length === 0 ? null : approved / rows.length,
    goodOutcomes: good.length,
    truePositiveRate: good.length === 0 ? null : goodApproved / good.length,
    small: rows.length < SMALL_GROUP,
  };
}

/**
 * Compares `group` with `reference` on approvals and on equal opportunity.
 *
 * @example compare("age", "< 25", young, "≥ 25", older).approvalRateRatio // 0.83
 */
export function compare(
  attribute: string,
  groupName: string,
  groupRows: readonly FairnessRow[],
  referenceName: string,
  referenceRows: readonly FairnessRow[],
): FairnessComparison {
  const group = stats(groupName, groupRows);
  const reference = stats(referenceName, referenceRows);
  const why: string[] = [];
  let ratio: number | null = null;
  if (group.approvalRate === null || reference.approvalRate === null) {
    why.push(
      `no decisions for ${group.approvalRate === null ? groupName : referenceName}: no approval-rate ratio`,
    );
  } else if (reference.approvalRate === 0) {
    why.push(`${referenceName} has no approval: the approval-rate ratio is undefined`);
  } else ratio = group.approvalRate / reference.approvalRate;
  let eod: number | null = null;
  if (group.truePositiveRate === null || reference.truePositiveRate === null) {
    why.push(
      `no known good outcome for ${group.truePositiveRate === null ? groupName : referenceName}: no equal-opportunity difference`,
    );
  } else eod = group.truePositiveRate - reference.truePositiveRate;
  return {
    attribute,
    group,
    reference,
    approvalRateRatio: ratio,
    equalOpportunityDifference: eod,
    why,
  };
}

/**
 * The two comparisons credit regulators ask about: applicants under 25 against the older ones,
 * and foreign workers against the others.
 */
export function creditFairness(rows: readonly FairnessRow[]): FairnessComparison[] {
  const young = rows.filter((r) => r.age < YOUNG_BELOW);
  const older = rows.filter((r) => r.age >= YOUNG_BELOW);
  const foreign = rows.filter((r) => r.foreignWorker === "yes");
  const local = rows.filter((r) => r.foreignWorker !== "yes");
  return [
    compare("age", `< ${YOUNG_BELOW}`, young, `≥ ${YOUNG_BELOW}`, older),
    compare("foreign_worker", "yes", foreign, "no", local),
  ];
}
