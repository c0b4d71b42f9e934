import { type ColumnProfile, type DataProfile, ivStrength } from "./explore.js";

/**
 * The data profile as one self-contained HTML file: no script, no external resource, inline
 * CSS and bars drawn with CSS widths, so it opens offline at once whatever the data size (its
 * size depends on columns and bins only). Every data string is escaped.
 */

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? "—" : `${(100 * x).toFixed(1)} %`;
const num = (x: number | undefined, digits = 3) => (x === undefined ? "—" : x.toFixed(digits));

function columnSection(c: ColumnProfile, labelled: boolean): string {
  const maxShare = Math.max(...c.bins.map((b) => b.share), 0.0001);
  const rows = c.bins
    .map(
      (b) =>
        `<tr><th scope="row">${esc(b.label)}</th><td class="n">${b.count}</td>` +
        `<td class="share"><span class="track"><span class="bar" style="width:${((100 * b.share) / maxShare).toFixed(1)}%"></span></span> ${pct(b.share)}</td>` +
        (labelled
          ? `<td class="n">${b.bad ?? "—"}</td><td class="n">${pct(b.badRate)}</td><td class="n ${b.woe !== undefined && b.woe < 0 ? "neg" : ""}">${num(b.woe)}</td>`
          : "") +
        "</tr>",
    )
    .join("");
  const stats = c.stats
    ? `<p class="stats">min ${c.stats.min} · p25 ${c.stats.quantiles.p25} · median ${c.stats.quantiles.p50} · p75 ${c.stats.quantiles.p75} · max ${c.stats.max} · mean ${c.stats.mean.toFixed(2)} · std ${c.stats.std.toFixed(2)}</p>`
    : "";
  const iv =
    c.informationValue === undefined
      ? ""
      : `<p class="iv">Information value <strong>${c.informationValue.toFixed(3)}</strong> (${ivStrength(c.informationValue)})${c.smoothed ? "; 0.5 added to every bin's counts, as one had no good or no bad" : ""}</p>`;
  return `<section><h2>${esc(c.column)} <small>${c.kind}, ${c.distinct} distinct, missing ${pct(c.missingShare)}</small></h2>${stats}${iv}
<table><thead><tr><th scope="col">${c.kind === "numeric" ? "range" : "value"}</th><th scope="col">count</th><th scope="col">share</th>${labelled ? '<th scope="col">bad</th><th scope="col">bad rate</th><th scope="col">WoE</th>' : ""}</tr></thead><tbody>${rows}</tbody></table></section>`;
}

/** The profile of `source` (a file name or a description) as an HTML document. */
export function renderProfileHtml(
  profile: DataProfile,
  source: string,
  generatedAt = Date.now(),
): string {
  const labelled = profile.label !== null;
  const ranked = labelled
    ? [...profile.columns].sort((a, b) => (b.informationValue ?? 0) - (a.informationValue ?? 0))
    : profile.columns;
  const summary = labelled
    ? `<table><thead><tr><th scope="col">column</th><th scope="col">information value</th><th scope="col">strength</th><th scope="col">missing</th></tr></thead><tbody>${ranked
        .map(
          (c) =>
            `<tr><th scope="row"><a href="#${esc(c.column)}">${esc(c.column)}</a></th><td class="n">${num(c.informationValue)}</td><td>${ivStrength(c.informationValue ?? 0)}</td><td class="n">${pct(c.missingShare)}</td></tr>`,
        )
        .join("")}</tbody></table>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Data profile · ${esc(source)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;color:#1b1f24;margin:2rem auto;max-width:70rem;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin:2rem 0 .3rem}h2 small{font-weight:400;color:#555;font-size:.85rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{padding:.25rem .5rem;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}td.neg{color:#a4161a}
td.share{white-space:nowrap}.track{display:inline-block;width:8rem;vertical-align:middle}
.bar{display:block;height:.7rem;background:#2b5d8a}
.stats,.iv{margin:.2rem 0;color:#333}.meta{color:#555}
@media print{section{break-inside:avoid}}
</style></head><body>
<h1>Data profile: ${esc(source)}</h1>
<p class="meta">${profile.rows} rows · ${profile.columns.length} columns${labelled ? ` · label ${esc(profile.label!.column)}: ${profile.label!.bad} bad (${pct(profile.label!.badRate)})` : " · no label: no bad rates or evidence"} · made ${new Date(generatedAt).toISOString()}</p>
${labelled ? "<p>Weight of evidence (WoE) = ln(share of goods ÷ share of bads) in a bin: negative is riskier than average. Information value sums (share of goods − share of bads) × WoE over the bins.</p>" : ""}
${summary}
${ranked.map((c) => `<div id="${esc(c.column)}">${columnSection(c, labelled)}</div>`).join("\n")}
</body></html>
`;
}
