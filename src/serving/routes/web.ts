import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/** The browser UI: plain files, no build step. Two levels up from src/serving/routes or dist/…. */
export const WEB_ROOT = fileURLToPath(new URL("../../../web/", import.meta.url));

/**
 * Pages load only our own scripts, styles and images and talk only to this origin, so data that
 * slipped into the DOM still could not load or run anything else.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Serves web/ under `/` (index.html at `/`). */
export async function webRoutes(app: FastifyInstance, opts: { root?: string } = {}) {
  await app.register(fastifyStatic, {
    root: opts.root ?? WEB_ROOT,
    prefix: "/",
    index: ["index.html"],
    // Routes are made per file at start: unknown paths reach the JSON not-found handler instead
    // of a catch-all, and the API's own routes never compete with a wildcard.
    wildcard: false,
    // No build step, so no content-hashed names: make the browser revalidate every time.
    cacheControl: true,
    maxAge: 0,
    setHeaders: (reply) => {
      reply.setHeader("content-security-policy", PAGE_CSP);
      reply.setHeader("referrer-policy", "no-referrer");
    },
  });
}
