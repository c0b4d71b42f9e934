/**
 * Test support for the chart tests (imported by the `*.test.ts` files only): a strict little XML
 * parser (Node has no DOMParser, and a regex cannot check nesting), queries on the parsed tree
 * and the checks every chart must pass.
 */
import { expect } from "vitest";

export interface XmlElement {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: (XmlElement | string)[];
}

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/** Parses a standalone XML document; throws on anything not well-formed. */
export function parseXml(src: string): XmlElement {
  let i = 0;
  const fail = (msg: string): never => {
    throw new Error(`${msg} at offset ${i}: ${JSON.stringify(src.slice(i, i + 50))}`);
  };
  for (const ch of src) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 && ch !== "\t" && ch !== "\n" && ch !== "\r") fail(`control character ${c}`);
  }
  const isSpace = (c: string) => c === " " || c === "\n" || c === "\t" || c === "\r";
  const isNameStart = (c: string) =>
    (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_" || c === ":";
  const isNameChar = (c: string) =>
    isNameStart(c) || (c >= "0" && c <= "9") || c === "-" || c === ".";
  const skipSpace = () => {
    while (i < src.length && isSpace(src[i])) i++;
  };
  const expect = (s: string) => {
    if (!src.startsWith(s, i)) fail(`expected ${JSON.stringify(s)}`);
    i += s.length;
  };
  const readName = () => {
    const start = i;
    if (!isNameStart(src[i] ?? "")) fail("name expected");
    while (i < src.length && isNameChar(src[i])) i++;
    return src.slice(start, i);
  };
  const decode = (raw: string): string => {
    let out = "";
    for (let k = 0; k < raw.length; k++) {
      const c = raw[k];
      if (c === "<") fail("unescaped '<'");
      if (c !== "&") {
        out += c;
        continue;
      }
      const end = raw.indexOf(";", k);
      if (end < 0) fail("unterminated entity");
      const ent = raw.slice(k + 1, end);
      if (ENTITIES[ent] !== undefined) out += ENTITIES[ent];
      else if (ent.startsWith("#x") && ent.length > 2)
        out += String.fromCodePoint(parseInt(ent.slice(2), 16));
      else if (ent.startsWith("#") && ent.length > 1 && !Number.isNaN(Number(ent.slice(1))))
        out += String.fromCodePoint(Number(ent.slice(1)));
      else fail(`unknown entity &${ent};`);
      k = end;
    }
    return out;
  };
  const element = (): XmlElement => {
    expect("<");
    const name = readName();
    const attrs: Record<string, string> = {};
    for (;;) {
      const hadSpace = i < src.length && isSpace(src[i]);
      skipSpace();
      if (src.startsWith("/>", i)) {
        i += 2;
        return { name, attrs, children: [] };
      }
      if (src[i] === ">") {
        i++;
        break;
      }
      if (!hadSpace) fail("whitespace expected before an attribute");
      const key = readName();
      if (key in attrs) fail(`duplicate attribute ${key}`);
      skipSpace();
      expect("=");
      skipSpace();
      const quote = src[i];
      if (quote !== '"' && quote !== "'") fail("quoted attribute value expected");
      const end = src.indexOf(quote, i + 1);
      if (end < 0) fail("unterminated attribute value");
      attrs[key] = decode(src.slice(i + 1, end));
      i = end + 1;
    }
    const children: (XmlElement | string)[] = [];
    for (;;) {
      if (i >= src.length) fail(`<${name}> is never closed`);
      if (src.startsWith("</", i)) {
        i += 2;
        const closing = readName();
        if (closing !== name) fail(`</${closing}> closes <${name}>`);
        skipSpace();
        expect(">");
        return { name, attrs, children };
      }
      if (src[i] === "<") {
        children.push(element());
        continue;
      }
      const next = src.indexOf("<", i);
      const end = next < 0 ? src.length : next;
      children.push(decode(src.slice(i, end)));
      i = end;
    }
  };
  skipSpace();
  if (src.startsWith("<?xml", i)) i = src.indexOf("?>", i) + 2;
  skipSpace();
  const root = element();
  skipSpace();
  if (i !== src.length) fail("content after the root element");
  return root;
}

export function all(root: XmlElement, pred: (e: XmlElement) => boolean): XmlElement[] {
  const found: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (pred(e)) found.push(e);
    for (const c of e.children) if (typeof c !== "string") walk(c);
  };
  walk(root);
  return found;
}

/** Text content without the `<title>` tooltips, as it is drawn. */
export function drawnText(e: XmlElement): string {
  return e.children
    .map((c) => (typeof c === "string" ? c : c.name === "title" ? "" : drawnText(c)))
    .join("");
}

export const byClass = (root: XmlElement, cls: string) =>
  all(root, (e) => (e.attrs.class ?? "").split(" ").includes(cls));
export const texts = (root: XmlElement) => all(root, (e) => e.name === "text").map(drawnText);

/** Parses and checks what every chart must satisfy; returns the tree for further checks. */
export function checkChart(svg: string): XmlElement {
  const root = parseXml(svg);
  expect(root.name).toBe("svg");
  expect(root.attrs.xmlns).toBe("http://www.w3.org/2000/svg");
  expect(root.attrs.viewBox).toMatch(/^0 0 \d+(\.\d+)? \d+(\.\d+)?$/);
  expect(root.attrs["font-family"]).toContain("system-ui");
  const elements = root.children.filter((c): c is XmlElement => typeof c !== "string");
  expect(elements[0].name).toBe("title");
  expect(elements[1].name).toBe("desc");
  expect(all(root, (e) => e.name === "script" || e.name === "image" || e.name === "use")).toEqual(
    [],
  );
  expect(svg).not.toMatch(/href|url\(|@import/);
  expect(svg).not.toMatch(/NaN|Infinity|undefined|\[object/);
  return root;
}

/** The polyline of a chart's first data series as [x, y] pixel pairs. */
export function polylinePoints(root: XmlElement): [number, number][] {
  const [polyline] = all(root, (e) => e.name === "polyline" && e.attrs.class === "series");
  return polyline.attrs.points.split(" ").map((p) => p.split(",").map(Number) as [number, number]);
}

/**
 * A ROC polyline back in data units, through the corners (0, 0) and (1, 1) it always starts and
 * ends on; rounded because coordinates are written to 0.01 px.
 */
export function curvePoints(root: XmlElement): number[][] {
  const px = polylinePoints(root);
  const [[x0, y0], [x1, y1]] = [px[0], px[px.length - 1]];
  const round = (v: number) => Math.round(v * 1000) / 1000 + 0; // + 0 turns -0 into 0
  return px.map(([x, y]) => [round((x - x0) / (x1 - x0)), round((y - y0) / (y1 - y0))]);
}
