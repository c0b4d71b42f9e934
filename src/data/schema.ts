/**
 * The credit schema: the 20 applicant attributes of the Statlog German Credit data, their types,
 * allowed values with readable labels (for forms and reasons), the UCI `german.data` codes
 * accepted as aliases, and valid numeric ranges. The target is `class` (good/bad; `bad` is risk).
 */

export interface CategoryValue {
  /** Canonical value, as in the ARFF file (e.g. `<0`). */
  readonly value: string;
  /** Readable label for forms and explanations (e.g. `below 0 DM`). */
  readonly label: string;
  /** The code used in UCI's `german.data` (e.g. `A11`), accepted as an alias. */
  readonly code: string;
}

interface ColumnBase {
  readonly name: string;
  /** Readable name, e.g. `Checking account`. */
  readonly label: string;
  readonly description: string;
}

export interface CategoricalColumn extends ColumnBase {
  readonly kind: "categorical";
  readonly values: readonly CategoryValue[];
}

export interface NumericColumn extends ColumnBase {
  readonly kind: "numeric";
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  readonly unit?: string;
}

export type Column = CategoricalColumn | NumericColumn;

export interface CreditSchema {
  readonly version: number;
  readonly columns: readonly Column[];
  readonly target: {
    readonly name: "class";
    readonly values: readonly ["good", "bad"];
    /** The class a positive prediction means: a bad (risky) applicant. */
    readonly positive: "bad";
    /** Accepted header names for the label column. */
    readonly aliases: readonly string[];
    /** UCI codes: 1 = good, 2 = bad. */
    readonly codes: Readonly<Record<string, "good" | "bad">>;
  };
}

const cat = (
  name: string,
  label: string,
  description: string,
  values: ReadonlyArray<readonly [value: string, label: string, code: string]>,
): CategoricalColumn => ({
  kind: "categorical",
  name,
  label,
  description,
  values: values.map(([value, l, code]) => ({ value, label: l, code })),
});

const num = (
  name: string,
  label: string,
  description: string,
  min: number,
  max: number,
  integer: boolean,
  unit?: string,
): NumericColumn => ({ kind: "numeric", name, label, description, min, max, integer, unit });

/** The German credit schema, in the column order of the ARFF file and of UCI `german.data`. */
export const CREDIT_SCHEMA: CreditSchema = {
  version: 1,
  columns: [
    cat("checking_status", "Checking account", "Status of the existing checking account", [
      ["<0", "below 0 DM", "A11"],
      ["0<=X<200", "0 to 200 DM", "A12"],
      [">=200", "200 DM or more (or salary assigned)", "A13"],
      ["no checking", "no checking account", "A14"],
    ]),
    num("duration", "Duration", "Credit duration in months", 1, 120, true, "months"),
    cat("credit_history", "Credit history", "Credit history", [
      ["no credits/all paid", "no credits taken or all paid back duly", "A30"],
      ["all paid", "all credits at this bank paid back duly", "A31"],
      ["existing paid", "existing credits paid back duly till now", "A32"],
      ["delayed previously", "delay in paying off in the past", "A33"],
      ["critical/other existing credit", "critical account or credits at other banks", "A34"],
    ]),
    cat("purpose", "Purpose", "Purpose of the credit", [
      ["new car", "new car", "A40"],
      ["used car", "used car", "A41"],
      ["furniture/equipment", "furniture or equipment", "A42"],
      ["radio/tv", "radio or television", "A43"],
      ["domestic appliance", "domestic appliances", "A44"],
      ["repairs", "repairs", "A45"],
      ["education", "education", "A46"],
      ["vacation", "vacation", "A47"],
      ["retraining", "retraining", "A48"],
      ["business", "business", "A49"],
      ["other", "other", "A410"],
    ]),
    num("credit_amount", "Credit amount", "Credit amount in DM", 1, 1_000_000, false, "DM"),
    cat("savings_status", "Savings", "Savings account or bonds", [
      ["<100", "below 100 DM", "A61"],
      ["100<=X<500", "100 to 500 DM", "A62"],
      ["500<=X<1000", "500 to 1000 DM", "A63"],
      [">=1000", "1000 DM or more", "A64"],
      ["no known savings", "unknown or no savings account", "A65"],
    ]),
    cat("employment", "Employment", "Present employment since", [
      ["unemployed", "unemployed", "A71"],
      ["<1", "less than 1 year", "A72"],
      ["1<=X<4", "1 to 4 years", "A73"],
      ["4<=X<7", "4 to 7 years", "A74"],
      [">=7", "7 years or more", "A75"],
    ]),
    num(
      "installment_commitment",
      "Instalment rate",
      "Instalment rate in percentage of disposable income (1: 35% or more … 4: below 20%)",
      1,
      4,
      true,
    ),
    cat("personal_status", "Personal status", "Personal status and sex", [
      ["male div/sep", "male, divorced or separated", "A91"],
      ["female div/dep/mar", "female, divorced, separated or married", "A92"],
      ["male single", "male, single", "A93"],
      ["male mar/wid", "male, married or widowed", "A94"],
      ["female single", "female, single", "A95"],
    ]),
    cat("other_parties", "Other debtors", "Other debtors or guarantors", [
      ["none", "none", "A101"],
      ["co applicant", "co-applicant", "A102"],
      ["guarantor", "guarantor", "A103"],
    ]),
    num("residence_since", "Residence since", "Present residence since (1 … 4)", 1, 4, true),
    cat("property_magnitude", "Property", "Most valuable property", [
      ["real estate", "real estate", "A121"],
      ["life insurance", "building society savings or life insurance", "A122"],
      ["car", "car or other", "A123"],
      ["no known property", "unknown or no property", "A124"],
    ]),
    num("age", "Age", "Age in years", 18, 120, true, "years"),
    cat("other_payment_plans", "Other instalment plans", "Other instalment plans", [
      ["bank", "at a bank", "A141"],
      ["stores", "at stores", "A142"],
      ["none", "none", "A143"],
    ]),
    cat("housing", "Housing", "Housing", [
      ["rent", "rent", "A151"],
      ["own", "own", "A152"],
      ["for free", "for free", "A153"],
    ]),
    num(
      "existing_credits",
      "Existing credits",
      "Number of existing credits at this bank (1: one, 2: two or three, 3: four or five, 4: six or more)",
      1,
      4,
      true,
    ),
    cat("job", "Job", "Job", [
      ["unemp/unskilled non res", "unemployed or unskilled, non-resident", "A171"],
      ["unskilled resident", "unskilled, resident", "A172"],
      ["skilled", "skilled employee or official", "A173"],
      ["high qualif/self emp/mgmt", "management, self-employed or highly qualified", "A174"],
    ]),
    num(
      "num_dependents",
      "Dependents",
      "Number of people liable to provide maintenance for",
      0,
      20,
      true,
    ),
    cat("own_telephone", "Telephone", "Telephone registered under the customer's name", [
      ["none", "none", "A191"],
      ["yes", "yes", "A192"],
    ]),
    cat("foreign_worker", "Foreign worker", "Foreign worker", [
      ["yes", "yes", "A201"],
      ["no", "no", "A202"],
    ]),
  ],
  target: {
    name: "class",
    values: ["good", "bad"],
    positive: "bad",
    aliases: ["class", "target"],
    codes: { "1": "good", "2": "bad" },
  },
};

/** Lookup from accepted spelling (value, UCI code, case-insensitively) to category index. */
export function categoryIndex(column: CategoricalColumn): Map<string, number> {
  const m = new Map<string, number>();
  column.values.forEach((v, i) => {
    m.set(v.value, i);
    m.set(v.value.toLowerCase(), i);
    m.set(v.code, i);
    m.set(v.code.toLowerCase(), i);
  });
  return m;
}

/** Readable phrase for one feature value, e.g. `Checking account: below 0 DM`. */
export function describeValue(column: Column, value: number): string {
  if (column.kind === "categorical")
    return `${column.label}: ${column.values[value]?.label ?? "?"}`;
  return `${column.label}: ${value}${column.unit ? ` ${column.unit}` : ""}`;
}
