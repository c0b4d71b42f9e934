// @ts-check
/**
 * The part of every page's header that depends on who is signed in: the user and role with a
 * sign-out button, and the page's controls the role may not use hidden (`data-needs-role`), with
 * what to say instead shown to that role (`data-unless-role`).
 * Controls marked `data-token-field` (a typed API token) go away for a user signed in here.
 */
import { currentSession, hasRole, signOut, signedInByCookie } from "./session.js";

async function renderHeader() {
  const session = await currentSession();
  const aside = document.querySelector(".site-header .header-aside");
  if (aside && session.user) {
    const who = document.createElement("span");
    who.className = "signed-in";
    who.id = "signed-in-user";
    who.textContent = `${session.user.name} (${session.user.role})`;
    aside.prepend(who, " · ");
    if (signedInByCookie(session)) {
      const out = document.createElement("button");
      out.type = "button";
      out.className = "link-button";
      out.id = "sign-out";
      out.textContent = "Sign out";
      out.addEventListener("click", () => void signOut());
      aside.append(" · ", out);
    }
  }
  // The access log is for admins: its link is there only for them.
  const nav = document.querySelector(".site-nav ul");
  if (nav && signedInByCookie(session) && hasRole(session.user?.role, "admin")) {
    const link = document.createElement("a");
    link.href = "/access-log.html";
    link.textContent = "Access log";
    if (window.location.pathname === "/access-log.html") link.setAttribute("aria-current", "page");
    const item = document.createElement("li");
    item.append(link);
    nav.append(item);
  }
  // In open mode nobody is signed in: an approver's controls stay, for a typed API token.
  for (const el of session.via === "open" ? [] : document.querySelectorAll("[data-needs-role]")) {
    const needed = /** @type {HTMLElement} */ (el).dataset.needsRole ?? "admin";
    if (!hasRole(session.user?.role, needed)) /** @type {HTMLElement} */ (el).hidden = true;
  }
  // What to say instead, to a role below it.
  for (const el of session.via === "open" ? [] : document.querySelectorAll("[data-unless-role]")) {
    const needed = /** @type {HTMLElement} */ (el).dataset.unlessRole ?? "admin";
    /** @type {HTMLElement} */ (el).hidden = hasRole(session.user?.role, needed);
  }
  if (signedInByCookie(session)) {
    for (const el of document.querySelectorAll("[data-token-field]")) {
      /** @type {HTMLElement} */ (el).hidden = true;
    }
  }
}

void renderHeader();
