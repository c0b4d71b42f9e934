// @ts-check
/**
 * The sign-in page: user name and password (`POST /api/v1/session`), then on to the page asked
 * for (`?next=`, a path of this site only). After the first admin's one-time link
 * (`?set-password=1`) it asks for a password instead.
 */
import { currentSession, writeHeaders } from "./session.js";

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** @param {string} id */
const input = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));

const params = new URLSearchParams(window.location.search);

/** Where to go next: a path of this site, never another site's address. */
function nextPath() {
  const next = params.get("next") ?? "/";
  return next.startsWith("/") && !next.startsWith("//") && !next.includes("\\") ? next : "/";
}

/**
 * @param {string} id
 * @param {string} text
 */
function showError(id, text) {
  const el = $(id);
  el.textContent = text;
  el.hidden = text === "";
}

/**
 * @param {Response} response
 * @returns {Promise<string>}
 */
async function problemText(response) {
  const data = await response.json().catch(() => null);
  return data?.detail ?? data?.title ?? `HTTP ${response.status}`;
}

async function signIn(/** @type {SubmitEvent} */ event) {
  event.preventDefault();
  const user = input("sign-in-user").value.trim();
  const password = input("sign-in-password").value;
  if (!user || !password) {
    showError("sign-in-error", "Give your user name and password.");
    return;
  }
  const submit = /** @type {HTMLButtonElement} */ ($("sign-in-submit"));
  submit.disabled = true;
  showError("sign-in-error", "");
  try {
    const response = await fetch("/api/v1/session", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ user, password }),
      credentials: "same-origin",
    });
    if (!response.ok) {
      showError("sign-in-error", await problemText(response));
      input("sign-in-password").value = "";
      input("sign-in-password").focus();
      return;
    }
    window.location.assign(nextPath());
  } catch {
    showError("sign-in-error", "The server could not be reached.");
  } finally {
    submit.disabled = false;
  }
}

async function setPassword(/** @type {SubmitEvent} */ event) {
  event.preventDefault();
  const password = input("new-password").value;
  if (password.length < 12) {
    showError("set-password-error", "The password needs at least 12 characters.");
    return;
  }
  if (password !== input("new-password-again").value) {
    showError("set-password-error", "The two passwords differ.");
    return;
  }
  const current = input("current-password").value;
  const response = await fetch("/api/v1/session/password", {
    method: "PUT",
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      ...(await writeHeaders()),
    },
    body: JSON.stringify(current ? { password, currentPassword: current } : { password }),
    credentials: "same-origin",
  }).catch(() => null);
  if (!response) return showError("set-password-error", "The server could not be reached.");
  if (!response.ok) return showError("set-password-error", await problemText(response));
  window.location.assign(nextPath());
}

async function start() {
  const session = await currentSession();
  const message = $("sign-in-message");
  if (session.sso) {
    $("sso").hidden = false;
    /** @type {HTMLAnchorElement} */ ($("sso-link")).href =
      `/sign-in/oidc?next=${encodeURIComponent(nextPath())}`;
  }
  const ssoError = params.get("sso-error");
  if (ssoError) {
    showError("sign-in-error", `Single sign-on did not sign you in: ${ssoError}`);
  } else if (params.get("link") === "spent") {
    message.textContent =
      "That sign-in link was used already or has expired. Sign in with your password, or ask an admin for a new link.";
  } else if (params.has("signed-out")) {
    message.textContent = "You are signed out.";
  } else if (params.has("next")) {
    message.textContent = "Sign in to open that page.";
  }
  if (params.has("set-password") && session.signedIn && session.user) {
    $("sign-in-section").hidden = true;
    $("set-password-section").hidden = false;
    $("set-password-for").textContent = session.user.hasPassword
      ? `Signed in as ${session.user.name}. Choose a new password.`
      : `Signed in as ${session.user.name} with a one-time link. Choose a password: you sign in with it from now on.`;
    $("current-password-field").hidden = !session.user.hasPassword;
    input("new-password").focus();
  } else {
    input("sign-in-user").focus();
  }
}

$("sign-in-form").addEventListener("submit", (e) => void signIn(e));
$("set-password-form").addEventListener("submit", (e) => void setPassword(e));
void start();
