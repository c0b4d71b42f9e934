import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.js";
import { fitPlatt } from "../calibration/platt.js";
import type { LabeledTable } from "../types.js";
import { logreg } from "./logistic.js";
import { fitMeanStacker } from "./stacker.js";

/** Three noisy log-odds scores of the same latent risk, on different scales. */
function scores(n: number, seed: number): LabeledTable {
  const rng = new Rng(seed);
  const cols = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    y[i] = rng.next() < 1 / (1 + Math.exp(-(1.5 * z - 1))) ? 1 : 0;
    cols[0][i] = z + 0.5 * rng.normal();
    cols[1][i] = 2 * z + rng.normal() - 1;
    cols[2][i] = 0.7 * z + 0.3 * rng.normal() + 0.4;
  }
  const features = cols.map((_, j) => ({ name: `member_${j}`, kind: "numeric" as const }));
  return { features, columns: cols, n, y };
}

describe("fitMeanStacker", () => {
  const data = scores(800, 1);

  it("is Platt scaling of the members' mean log-odds, as a logistic model on the members", () => {
    const stacker = fitMeanStacker(data);
    const mean = Float64Array.from(
      { length: data.n },
      (_, i) => data.columns.reduce((s, c) => s + c[i], 0) / 3,
    );
    const platt = fitPlatt(mean, data.y);
    const p = stacker.predictProba(data);
    const q = platt.apply(mean);
    for (let i = 0; i < data.n; i++) expect(p[i]).toBeCloseTo(q[i], 12);
    // Equal weights on the members' own scale: coefficient on a standardised column = w · std.
    for (const b of stacker.encoder.blocks) {
      if (b.kind !== "numeric") throw new Error("member columns are numeric");
      expect(stacker.coef[b.column] / b.std).toBeCloseTo(platt.a / 3, 12);
    }
    const row = [0.3, -1.2, 2];
    expect(stacker.predictRawRow(row)).toBeCloseTo(platt.a * ((0.3 - 1.2 + 2) / 3) + platt.b, 12);
  });

  it("round-trips through the logistic model's JSON", () => {
    const stacker = fitMeanStacker(data);
    const text = JSON.stringify(stacker.toJSON());
    expect(JSON.stringify(fitMeanStacker(data).toJSON())).toBe(text);
    const back = logreg.fromJSON(JSON.parse(text), data.features);
    expect(Array.from(back.predictRaw(data))).toEqual(Array.from(stacker.predictRaw(data)));
  });

  it("refuses categorical inputs and empty data", () => {
    const cat = {
      ...data,
      features: [{ name: "c", kind: "categorical" as const, nCategories: 2 }],
      columns: [data.columns[0]],
    };
    expect(() => fitMeanStacker(cat)).toThrow(/not numeric/);
    expect(() => fitMeanStacker({ ...data, columns: [], features: [] })).toThrow(/member/);
  });
});
