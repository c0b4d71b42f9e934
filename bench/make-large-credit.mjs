// Writes a synthetic 150,000-row credit file in the shape of Kaggle's "Give Me Some Credit"
// training set (cs-training.csv): an unnamed first index column (empty header, 1, 2, … as
// pandas' to_csv writes it), the target SeriousDlqin2yrs (0/1, about 6.7 % ones) and ten
// attributes, MonthlyIncome about 20 % NA and NumberOfDependents about 2.6 % NA. The values
// follow the real file's marginal shapes (mostly-zero delinquency counts with rare 96/98 codes,
// heavy-tailed utilisation and debt ratio, a huge debt ratio where income is missing); the
// target is drawn from a logistic model of them in which delinquencies, high utilisation, youth,
// low income and missing income raise the risk. Deterministic: a fixed seed gives the same file
// byte for byte.
//   node bench/make-large-credit.mjs [out=/tmp/large-credit.csv] [rows=150000] [seed=2011]
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export const LARGE_CREDIT_COLUMNS = [
  "",
  "SeriousDlqin2yrs",
  "RevolvingUtilizationOfUnsecuredLines",
  "age",
  "NumberOfTime30-59DaysPastDueNotWorse",
  "DebtRatio",
  "MonthlyIncome",
  "NumberOfOpenCreditLinesAndLoans",
  "NumberOfTimes90DaysLate",
  "NumberRealEstateLoansOrLines",
  "NumberOfTime60-89DaysPastDueNotWorse",
  "NumberOfDependents",
];
/** Share of ones in the target the intercept is solved for. */
const BAD_RATE = 0.0668;

/** mulberry32: small, fast, seeded; enough for synthetic data. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sampler(seed) {
  const u = mulberry32(seed);
  const normal = () => {
    let x = 0;
    while (x === 0) x = u();
    return Math.sqrt(-2 * Math.log(x)) * Math.cos(2 * Math.PI * u());
  };
  const poisson = (lambda) => {
    // Knuth's method: fine for the small means used here.
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= u();
    } while (p > l);
    return k - 1;
  };
  const gamma = (shape) => {
    // Marsaglia–Tsang (shape ≥ 1; boosted for shape < 1).
    if (shape < 1) return gamma(shape + 1) * Math.pow(u(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x;
      let v;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const w = u();
      if (w < 1 - 0.0331 * x ** 4 || Math.log(w) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
        return d * v;
      }
    }
  };
  const beta = (a, b) => {
    const x = gamma(a);
    return x / (x + gamma(b));
  };
  return { u, normal, poisson, gamma, beta };
}

/** One applicant's attributes and the part of the risk logit that does not hold the intercept. */
function applicant(s) {
  const { u, normal, poisson, gamma, beta } = s;
  // A latent "trouble" factor ties the delinquency counts, utilisation and the label together.
  const trouble = gamma(0.35) / 0.35;
  const age = Math.max(21, Math.min(103, Math.round(52 + 14.8 * normal())));

  let util;
  const r = u();
  if (r < 0.07) util = 0;
  else if (r < 0.9975) util = Math.min(1.0, beta(0.6, 1.3) * (0.6 + 0.35 * Math.min(trouble, 2)));
  else util = Math.exp(3 + 2.5 * u()); // the real file's rare absurd utilisations (20 … 3,600)
  util = Math.min(util, 50708);

  const code98 = u() < 0.0018; // the real file's 96/98 "unknown" codes, in all three counts
  const pd = (mean) => (code98 ? 0 : poisson(mean * trouble));
  const pd30 = code98 ? (u() < 0.97 ? 98 : 96) : pd(0.24);
  const pd60 = code98 ? (pd30 === 98 ? 98 : 96) : pd(0.06);
  const pd90 = code98 ? (pd30 === 98 ? 98 : 96) : pd(0.1);

  const incomeMissing = u() < 0.198;
  const income = incomeMissing
    ? undefined
    : u() < 0.012
      ? 0
      : Math.round(Math.exp(Math.log(5400) + 0.65 * normal() + 0.004 * (age - 52)));
  // Without an income the real file's DebtRatio is a monthly debt amount (median ~1,100).
  const debtRatio = incomeMissing
    ? u() < 0.12
      ? 0
      : Math.round(Math.exp(Math.log(1100) + 1.3 * normal()))
    : Math.exp(Math.log(0.3) + 0.75 * normal());
  const openLines = Math.min(58, poisson(gamma(3) * 2.8));
  const realEstate = Math.min(54, poisson((Math.max(0.05, 1 + 0.012 * (age - 52)) * gamma(4)) / 4));
  const dependents = u() < 0.026 ? undefined : Math.min(20, poisson(age < 65 ? 0.85 : 0.25));

  const cap = (x, c) => Math.min(x, c);
  let logit =
    1.9 * cap(util, 1.2) +
    0.55 * cap(code98 ? 0 : pd30, 8) +
    0.95 * cap(code98 ? 0 : pd90, 8) +
    0.7 * cap(code98 ? 0 : pd60, 8) +
    (code98 ? 2.2 : 0) +
    -0.028 * (age - 52) +
    0.35 * Math.min(Math.max(debtRatio, 0), 2) * (incomeMissing ? 0 : 1) +
    (incomeMissing ? 0.65 : -0.3 * Math.log((income + 500) / 5900)) +
    0.07 * (dependents ?? 0) +
    -0.04 * cap(openLines, 20) +
    (realEstate === 0 ? 0.15 : realEstate > 3 ? 0.25 : 0);
  logit += 0.35 * normal(); // unobserved part
  return {
    logit,
    fields: [util, age, pd30, debtRatio, income, openLines, pd90, realEstate, pd60, dependents],
  };
}

const sigmoid = (z) => 1 / (1 + Math.exp(-z));

function number(x) {
  if (x === undefined) return "NA";
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(10)));
}

/** Writes the file; resolves with its row count and number of ones in the target. */
export async function makeLargeCredit(path = "/tmp/large-credit.csv", rows = 150_000, seed = 2011) {
  const s = sampler(seed);
  const people = Array.from({ length: rows }, () => applicant(s));
  // Intercept solved by bisection so the expected share of ones is BAD_RATE.
  let lo = -20;
  let hi = 5;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    let p = 0;
    for (const a of people) p += sigmoid(mid + a.logit);
    if (p / rows > BAD_RATE) hi = mid;
    else lo = mid;
  }
  const intercept = (lo + hi) / 2;
  const out = createWriteStream(path);
  out.write(LARGE_CREDIT_COLUMNS.map((c) => (/[",]/.test(c) ? `"${c}"` : c)).join(",") + "\n");
  let bad = 0;
  let block = "";
  for (let i = 0; i < rows; i++) {
    const a = people[i];
    const y = s.u() < sigmoid(intercept + a.logit) ? 1 : 0;
    bad += y;
    block += `${i + 1},${y},${a.fields.map(number).join(",")}\n`;
    if (block.length > 1 << 20) {
      if (!out.write(block)) await once(out, "drain");
      block = "";
    }
  }
  out.end(block);
  await once(out, "finish");
  return { path, rows, bad };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = process.argv[2] ?? "/tmp/large-credit.csv";
  const rows = Number(process.argv[3] ?? 150_000);
  const seed = Number(process.argv[4] ?? 2011);
  const started = performance.now();
  const r = await makeLargeCredit(path, rows, seed);
  console.log(
    `${r.path}: ${r.rows} rows, ${r.bad} with SeriousDlqin2yrs = 1 (${((100 * r.bad) / r.rows).toFixed(2)} %), ` +
      `seed ${seed}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}
