// @ts-check
/**
 * Who is signed in, asked of the server once per page (`GET /api/v1/session`). Pages use it to
 * show the user, hide what the role may not do, and send the session's CSRF token on writes
 * (the server refuses a cookie-authenticated write without it).
 */

/**
 * @typedef {{ name: string, role: "viewer" | "clerk" | "approver" | "admin", hasPassword: boolean }} SessionUser
 * @typedef {{ signedIn: boolean, access: "secured" | "open", sso?: boolean, user: SessionUser | null, via: string | null, expiresAt: string | null, csrfToken: string | null }} SessionInfo
 */

const ROLES = ["viewer", "clerk", "approver", "admin"];

/** @type {Promise<SessionInfo> | null} */
let loading = null;
/** @type {string | null} */
let csrf = null;

/** @returns {Promise<SessionInfo>} */
export function currentSession() {
  loading ??= fetch("/api/v1/session", {
    headers: { accept: "application/json" },
    credentials: "same-origin",
  })
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null)
    .then((info) => {
      /** @type {SessionInfo} */
      const session = info ?? {
        signedIn: false,
        access: "secured",
        user: null,
        via: null,
        expiresAt: null,
        csrfToken: null,
      };
      csrf = session.csrfToken;
      return session;
    });
  return loading;
}

/**
 * Headers a write needs: the session's CSRF token, once the session is known.
 *
 * @returns {Promise<Record<string, string>>}
 */
export async function writeHeaders() {
  await currentSession();
  return csrf ? { "x-csrf-token": csrf } : {};
}

/** The CSRF token if the session is already known (for XMLHttpRequest, set synchronously). */
export function knownCsrfToken() {
  return csrf;
}

/**
 * Whether `role` includes `needed`.
 *
 * @param {string | undefined} role
 * @param {string} needed
 */
export function hasRole(role, needed) {
  return role !== undefined && ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/**
 * Whether the user signed in through the page (so a typed API token is not needed).
 *
 * @param {SessionInfo} session
 */
export function signedInByCookie(session) {
  return session.csrfToken !== null;
}

/** Ends the session on the server and goes to the sign-in page. */
export async function signOut() {
  await fetch("/api/v1/session", {
    method: "DELETE",
    headers: await writeHeaders(),
    credentials: "same-origin",
  }).catch(() => null);
  window.location.assign("/sign-in.html?signed-out=1");
}
