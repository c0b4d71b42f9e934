/**
 * The API token field of the pages that change things (Models, Flows): kept in this browser
 * tab's session storage under one key, so a token typed on one page serves the others, and
 * gone when the tab closes or "Forget" is pressed.
 */
const TOKEN_KEY = "riskometer.apiToken";

/**
 * @param {HTMLInputElement} input
 * @param {HTMLElement} forget
 */
export function wireTokenField(input, forget) {
  input.value = sessionStorage.getItem(TOKEN_KEY) ?? "";
  input.addEventListener("input", () => {
    const value = input.value.trim();
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  });
  forget.addEventListener("click", () => {
    input.value = "";
    sessionStorage.removeItem(TOKEN_KEY);
    input.focus();
  });
}
