import { describe, expect, it } from "vitest";
import { defaultSpec } from "../data/index.js";
import type { ReferenceProfile } from "../monitoring/reference-profile.js";
import { typicalValues } from "./typical.js";

const SPEC = defaultSpec();

function profile(columns: ReferenceProfile["columns"]): ReferenceProfile {
  return { format: "riskometer-reference-profile/1", rows: 4, columns, probabilityBad: [] };
}

describe("typicalValues", () => {
  it("takes the commonest category, the first in the spec's order on a tie", () => {
    const typical = typicalValues(
      SPEC,
      profile([
        {
          name: "checking_status",
          kind: "categorical",
          counts: { "no checking": 2, "<0": 1, ">=200": 3 },
          missing: 0,
        },
        // "<100" comes before ">=1000" in the spec.
        {
          name: "savings_status",
          kind: "categorical",
          counts: { ">=1000": 2, "<100": 2 },
          missing: 1,
        },
      ]),
    );
    expect(typical.get("checking_status")).toBe(">=200");
    expect(typical.get("savings_status")).toBe("<100");
  });

  it("takes the median number, rounded for a whole-number column", () => {
    const typical = typicalValues(
      SPEC,
      profile([
        { name: "duration", kind: "numeric", sorted: [6, 12, 13, 48], missing: 0 },
        { name: "credit_amount", kind: "numeric", sorted: [1000, 2001, 5000, 9000], missing: 0 },
        { name: "installment_commitment", kind: "numeric", sorted: [1, 2, 4], missing: 2 },
      ]),
    );
    expect(typical.get("duration")).toBe(13);
    expect(typical.get("credit_amount")).toBe(3500.5);
    expect(typical.get("installment_commitment")).toBe(2);
  });

  it("is null for a column whose every value was missing, and leaves out what the profile lacks", () => {
    const typical = typicalValues(
      SPEC,
      profile([
        { name: "duration", kind: "numeric", sorted: [], missing: 4 },
        { name: "purpose", kind: "categorical", counts: {}, missing: 4 },
        // A profile of another spec's column of the same name but another kind says nothing.
        { name: "age", kind: "categorical", counts: { old: 4 }, missing: 0 },
      ]),
    );
    expect(typical.get("duration")).toBeNull();
    expect(typical.get("purpose")).toBeNull();
    expect(typical.has("age")).toBe(false);
    expect(typical.has("job")).toBe(false);
  });

  it("counts only the spec's own values, whatever the counts object carries", () => {
    const counts = JSON.parse('{"__proto__": 9, "constructor": 9, "<0": 1}') as Record<
      string,
      number
    >;
    const typical = typicalValues(
      SPEC,
      profile([{ name: "checking_status", kind: "categorical", counts, missing: 0 }]),
    );
    expect(typical.get("checking_status")).toBe("<0");
  });
});
