import * as oidc from "openid-client";
import { AppError } from "../core/errors.js";
import { ROLES, type Role } from "./users.js";

/** Single sign-on with an OpenID Connect provider (authorization code flow with PKCE). */
export interface OidcSettings {
  /** The provider's issuer URL (its discovery document is at `<issuer>/.well-known/openid-configuration`). */
  readonly issuer: string;
  readonly clientId: string;
  /** None: a public client (PKCE only). */
  readonly clientSecret?: string;
  /** Space-separated scopes, `openid` among them. */
  readonly scopes: string;
  /** The claim (ID token or userinfo) whose values name the user's groups or roles. */
  readonly roleClaim: string;
  /** Claim value → role; the highest role any value maps to is the user's. */
  readonly roles: ReadonlyMap<string, Role>;
}

/** What the browser keeps between leaving for the provider and coming back (a cookie). */
interface Pending {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly next: string;
  readonly redirectUri: string;
  readonly at: number;
}

/** How long a sign-in at the provider may take. */
export const OIDC_PENDING_MS = 10 * 60_000;

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * Parses `RISKOMETER_OIDC_ROLES`: `value=role` pairs, comma-separated
 * (`risk-admins=admin,risk-clerks=clerk`). Empty: the role names themselves.
 */
export function parseRoleMap(text: string): Map<string, Role> {
  const map = new Map<string, Role>();
  if (text.trim() === "") {
    for (const role of ROLES) map.set(role, role);
    return map;
  }
  for (const pair of text.split(",")) {
    const [value, role] = pair.split("=").map((s) => s.trim());
    if (!value || !role || !(ROLES as readonly string[]).includes(role)) {
      throw new AppError(
        "CONFIG_INVALID",
        `RISKOMETER_OIDC_ROLES: "${pair.trim()}" must be <claim value>=<${ROLES.join("|")}>`,
      );
    }
    map.set(value, role as Role);
  }
  return map;
}

/** The highest role the claim's values map to, or null. */
export function roleFromClaims(
  claims: Record<string, unknown>,
  claim: string,
  roles: ReadonlyMap<string, Role>,
): Role | null {
  const raw = claims[claim];
  const values = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
  let best: Role | null = null;
  for (const v of values) {
    const role = typeof v === "string" ? roles.get(v) : undefined;
    if (role && (best === null || ROLES.indexOf(role) > ROLES.indexOf(best))) best = role;
  }
  return best;
}

/** The Riskometer user name of a provider's user: preferred_username, else email, else sub. */
export function userNameFromClaims(claims: Record<string, unknown>): string {
  for (const key of ["preferred_username", "email", "sub"]) {
    const v = claims[key];
    if (typeof v === "string" && USER_NAME.test(v)) return v;
  }
  throw new AppError(
    "FORBIDDEN",
    "the identity provider gave no user name Riskometer can use (preferred_username, email or sub of 1–64 letters, digits, . _ @ -)",
  );
}

/**
 * The relying party: sends the browser to the provider with a PKCE challenge, state and nonce,
 * and on its return exchanges the code (checking all three and the ID token) for the user's
 * claims. openid-client (certified) does the protocol; this maps the result to a user and role.
 */
export class OidcSignIn {
  private configuration: Promise<oidc.Configuration> | null = null;

  constructor(private readonly settings: OidcSettings) {}

  /** The provider's configuration, discovered once (again after a failure). */
  private config(): Promise<oidc.Configuration> {
    if (this.configuration === null) {
      const issuer = new URL(this.settings.issuer);
      // Plain HTTP only for a provider on this machine (a development or test provider).
      const local = ["localhost", "127.0.0.1", "[::1]"].includes(issuer.hostname);
      this.configuration = oidc
        .discovery(
          issuer,
          this.settings.clientId,
          this.settings.clientSecret,
          this.settings.clientSecret === undefined ? oidc.None() : undefined,
          local && issuer.protocol === "http:" ? { execute: [oidc.allowInsecureRequests] } : {},
        )
        .catch((e: unknown) => {
          this.configuration = null;
          throw new AppError(
            "STORE_UNAVAILABLE",
            `the identity provider ${this.settings.issuer} cannot be reached or is not an OpenID provider: ${(e as Error).message}`,
            { cause: e },
          );
        });
    }
    return this.configuration;
  }

  /** Where to send the browser, and the cookie value that must come back with it. */
  async start(redirectUri: string, next: string): Promise<{ url: string; pending: string }> {
    const config = await this.config();
    const verifier = oidc.randomPKCECodeVerifier();
    const pending: Pending = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier,
      next,
      redirectUri,
      at: Date.now(),
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.settings.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state: pending.state,
      nonce: pending.nonce,
    });
    return {
      url: url.href,
      pending: Buffer.from(JSON.stringify(pending)).toString("base64url"),
    };
  }

  /**
   * The user the provider signed in: the callback URL's code exchanged with the pending
   * sign-in's checks. UNAUTHENTICATED for a stale or forged return, FORBIDDEN for a user the
   * role claim gives no role.
   */
  async finish(
    callback: URL,
    pendingCookie: string | undefined,
  ): Promise<{ name: string; role: Role; next: string }> {
    let pending: Pending;
    try {
      pending = JSON.parse(Buffer.from(pendingCookie ?? "", "base64url").toString("utf8"));
    } catch {
      pending = {} as Pending;
    }
    if (typeof pending.state !== "string" || Date.now() - pending.at > OIDC_PENDING_MS) {
      throw new AppError(
        "UNAUTHENTICATED",
        "this single sign-on has no pending sign-in here (it expired, or began in another browser): sign in again",
      );
    }
    const config = await this.config();
    // The provider answers at the redirect URI we gave; the proxy in front may have rewritten
    // the address, so the callback's query is checked against the URI we sent.
    const current = new URL(pending.redirectUri);
    current.search = callback.search;
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (e) {
      throw new AppError(
        "UNAUTHENTICATED",
        `the identity provider's answer was refused: ${(e as Error).message}`,
        { cause: e },
      );
    }
    const idClaims = (tokens.claims() ?? {}) as Record<string, unknown>;
    const info = await oidc
      .fetchUserInfo(config, tokens.access_token, String(idClaims.sub))
      .catch(() => ({}));
    const claims = { ...info, ...idClaims } as Record<string, unknown>;
    const name = userNameFromClaims(claims);
    const role = roleFromClaims(claims, this.settings.roleClaim, this.settings.roles);
    if (role === null) {
      throw new AppError(
        "FORBIDDEN",
        `${name} has no Riskometer role: the claim "${this.settings.roleClaim}" holds none of ${[...this.settings.roles.keys()].join(", ")}`,
      );
    }
    return { name, role, next: pending.next };
  }
}
