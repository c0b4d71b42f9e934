import type { FastifyInstance, FastifyRequest } from "fastify";
import { parse as parseCookie, serialize as serializeCookie } from "cookie";
import type { SqlUserStore } from "../../auth/index.js";
import { OIDC_PENDING_MS, type OidcSignIn } from "../../auth/oidc.js";
import { AppError } from "../../core/errors.js";
import { type AccessControl, SIGN_IN_PAGE, overTls } from "../access.js";
import { localPath } from "./session.js";

export interface SsoRouteOptions {
  readonly access: AccessControl;
  readonly users: SqlUserStore;
  /** Single sign-on, when a provider is configured (else the routes answer 404). */
  readonly oidc: OidcSignIn | null;
}

/** The cookie that carries a pending single sign-on (state, nonce, PKCE verifier) to the callback. */
const OIDC_COOKIE = "riskometer_oidc";

/** Single sign-on: off to the OpenID provider, and back with a session. */
export async function ssoRoutes(app: FastifyInstance, opts: SsoRouteOptions) {
  const { access, users } = opts;
  /** The callback address the provider sends the browser back to. */
  const callbackOf = (request: FastifyRequest) =>
    `${overTls(request) ? "https" : "http"}://${request.headers.host}/sign-in/oidc/callback`;
  const noSso = () =>
    new AppError(
      "NOT_FOUND",
      "single sign-on is not set up on this server (RISKOMETER_OIDC_ISSUER); sign in with a password",
    );

  app.get<{ Querystring: { next?: string } }>(
    "/sign-in/oidc",
    {
      schema: {
        tags: ["access"],
        summary: "Sign in with the identity provider",
        description:
          "Sends the browser to the OpenID Connect provider (authorization code flow with PKCE, state and nonce); it comes back to `/sign-in/oidc/callback`.",
        querystring: {
          type: "object",
          properties: { next: { type: "string", maxLength: 2000 } },
        },
      },
    },
    async (request, reply) => {
      if (opts.oidc === null) throw noSso();
      const { url, pending } = await opts.oidc.start(
        callbackOf(request),
        localPath(request.query.next),
      );
      reply.header(
        "set-cookie",
        serializeCookie(OIDC_COOKIE, pending, {
          httpOnly: true,
          sameSite: "lax",
          secure: overTls(request),
          path: "/sign-in/oidc",
          maxAge: OIDC_PENDING_MS / 1000,
        }),
      );
      return reply.redirect(url, 303);
    },
  );

  app.get(
    "/sign-in/oidc/callback",
    {
      schema: {
        tags: ["access"],
        summary: "Where the identity provider sends the browser back",
        description:
          "Exchanges the code (checking state, nonce, the PKCE verifier and the ID token), maps the role claim to a role, creates the user on a first sign-in (or updates the role), starts a session and opens the page asked for.",
      },
    },
    async (request, reply) => {
      if (opts.oidc === null) throw noSso();
      const pending = request.headers.cookie
        ? parseCookie(request.headers.cookie)[OIDC_COOKIE]
        : undefined;
      // The pending sign-in is spent either way.
      const spent = serializeCookie(OIDC_COOKIE, "", {
        path: "/sign-in/oidc",
        maxAge: 0,
        httpOnly: true,
      });
      let result;
      try {
        result = await opts.oidc.finish(
          new URL(request.url, `http://${request.headers.host ?? "localhost"}`),
          pending,
        );
      } catch (e) {
        // A person is at a browser here: the sign-in page says what went wrong.
        const why = (e as Error).message;
        reply.header("set-cookie", spent);
        access.audit(request, "sign-in-failed", 401, null, `sso: ${why}`);
        return reply.redirect(`${SIGN_IN_PAGE}?sso-error=${encodeURIComponent(why)}`, 303);
      }
      const user = await users.signedInBySso(result.name, result.role).catch((e: Error) => e);
      if (user instanceof Error) {
        reply.header("set-cookie", spent);
        access.audit(request, "sign-in-failed", 403, result.name, `sso: ${user.message}`);
        return reply.redirect(`${SIGN_IN_PAGE}?sso-error=${encodeURIComponent(user.message)}`, 303);
      }
      const { cookie } = await access.startSession(request, user.name, "sso");
      reply.header("set-cookie", [spent, cookie]);
      access.audit(request, "sign-in", 200, user.name, "sso", user);
      return reply.redirect(result.next, 303);
    },
  );
}
