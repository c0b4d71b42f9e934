/**
 * Fairness of credit decisions between groups of applicants: the approval-rate ratio (disparate
 * impact) and the equal-opportunity difference, with the counts behind them, so that a small
 * group shows as small instead of as a confident number.
 */

import type { FairnessAttribute, FairnessGroup } from "../data/index.js";

/** One decision as fairness needs it. */
export interface FairnessRow {
  /** The applicant's values by column name (a decision's input), read for the groups. */
  readonly values: Readonly<Record<string, unknown>>;
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
  /** What splits the applicants: the column, e.g. `age` or `foreign_worker`. */
  readonly attribute: string;
  /** Its readable name, e.g. `Age band` (absent in reports stored before dataset specs). */
  readonly label?: string;
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

/** What a group's figures are made of; rows can be counted one at a time (a stream). */
interface GroupCounts {
  decisions: number;
  approved: number;
  goodOutcomes: number;
  goodApproved: number;
}

const noCounts = (): GroupCounts => ({
  decisions: 0,
  approved: 0,
  goodOutcomes: 0,
  goodApproved: 0,
});

function count(into: GroupCounts, r: FairnessRow): void {
  into.decisions++;
  if (r.approved) into.approved++;
  if (r.outcome === "good") {
    into.goodOutcomes++;
    if (r.approved) into.goodApproved++;
  }
}

function statsOf(group: string, c: GroupCounts): GroupStats {
  return {
    group,
    decisions: c.decisions,
    approved: c.approved,
    approvalRate: c.decisions === 0 ? null : c.approved / c.decisions,
    goodOutcomes: c.goodOutcomes,
    truePositiveRate: c.goodOutcomes === 0 ? null : c.goodApproved / c.goodOutcomes,
    small: c.decisions < SMALL_GROUP,
  };
}

function stats(group: string, rows: readonly FairnessRow[]): GroupStats {
  const c = noCounts();
  for (const r of rows) count(c, r);
  return statsOf(group, c);
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
  return compareStats(
    attribute,
    attribute,
    stats(groupName, groupRows),
    stats(referenceName, referenceRows),
  );
}

function compareStats(
  attribute: string,
  label: string,
  group: GroupStats,
  reference: GroupStats,
): FairnessComparison {
  const why: string[] = [];
  let ratio: number | null = null;
  if (group.approvalRate === null || reference.approvalRate === null) {
    why.push(
      `no decisions for ${group.approvalRate === null ? group.group : reference.group}: no approval-rate ratio`,
    );
  } else if (reference.approvalRate === 0) {
    why.push(`${reference.group} has no approval: the approval-rate ratio is undefined`);
  } else ratio = group.approvalRate / reference.approvalRate;
  let eod: number | null = null;
  if (group.truePositiveRate === null || reference.truePositiveRate === null) {
    why.push(
      `no known good outcome for ${group.truePositiveRate === null ? group.group : reference.group}: no equal-opportunity difference`,
    );
  } else eod = group.truePositiveRate - reference.truePositiveRate;
  return {
    attribute,
    label,
    group,
    reference,
    approvalRateRatio: ratio,
    equalOpportunityDifference: eod,
    why,
  };
}

/**
 * The comparisons a dataset spec asks for: per fairness attribute, each of its groups against
 * the reference group (German credit: under 25 against 25 or older, foreign workers against the
 * others, women against men).
 */
export function fairnessOf(
  attributes: readonly FairnessAttribute[],
  rows: readonly FairnessRow[],
): FairnessComparison[] {
  const counter = new FairnessCounter(attributes);
  for (const r of rows) counter.add(r);
  return counter.result();
}

/** The key under which an erased decision's input keeps its fairness groups. */
export const ERASED_GROUPS = "$groups";

/**
 * The fairness group of each attribute an applicant belongs to (null: none), by column: what an
 * erased decision keeps of its input, so fairness can still be judged on it.
 */
export function groupsOf(
  attributes: readonly FairnessAttribute[],
  values: Readonly<Record<string, unknown>>,
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const a of attributes) {
    out[a.column] = a.groups.find((g) => inGroup(g, values[a.column]))?.name ?? null;
  }
  return out;
}

/** Whether a value belongs to a group: one of its values, or within its band `[min, max)`. */
function inGroup(group: FairnessGroup, value: unknown): boolean {
  if (group.values !== undefined) return typeof value === "string" && group.values.includes(value);
  if (typeof value !== "number" || !Number.isFinite(value)) return false;
  return (
    (group.min === undefined || value >= group.min) &&
    (group.max === undefined || value < group.max)
  );
}

/**
 * `fairnessOf` one decision at a time: per attribute and group its counts, whatever the number
 * of rows. An applicant whose value is missing or in no group counts for none of that
 * attribute's groups.
 */
export class FairnessCounter {
  private readonly counts: GroupCounts[][];

  constructor(private readonly attributes: readonly FairnessAttribute[]) {
    this.counts = attributes.map((a) => a.groups.map(noCounts));
  }

  add(r: FairnessRow): void {
    // An erased decision keeps only its groups, by name (see groupsOf).
    const kept = r.values[ERASED_GROUPS] as Record<string, string | null> | undefined;
    this.attributes.forEach((a, i) => {
      const value = r.values[a.column];
      const g =
        kept !== undefined
          ? a.groups.findIndex((group) => group.name === kept[a.column])
          : a.groups.findIndex((group) => inGroup(group, value));
      if (g >= 0) count(this.counts[i][g], r);
    });
  }

  result(): FairnessComparison[] {
    return this.attributes.flatMap((a, i) => {
      const ref = a.groups.findIndex((g) => g.name === a.reference);
      const reference = statsOf(a.reference, this.counts[i][ref]);
      return a.groups.flatMap((g, k) =>
        k === ref
          ? []
          : [compareStats(a.column, a.label, statsOf(g.name, this.counts[i][k]), reference)],
      );
    });
  }
}
