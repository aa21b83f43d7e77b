// The login form: POST /api/v1/auth/session, then the page for the user's role.

import { api, ApiError } from "./api.js";
import { ready, t } from "./i18n.js";
import { clearFieldErrors, showFieldErrors } from "./ui.js";

await ready;
const form = document.getElementById("login-form");
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  clearFieldErrors(form);
  const username = form.username.value.trim();
  const password = form.password.value;
  const errors = {};
  if (!username) errors.username = t("Enter your user name.");
  if (!password) errors.password = t("Enter your password.");
  if (Object.keys(errors).length) { showFieldErrors(form, errors); return; }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const session = await api.post("/auth/session", { username, password }, { noRedirect: true });
    window.location.assign(form.dataset.next || session.home || "/");
  } catch (err) {
    button.disabled = false;
    if (err instanceof ApiError && err.status === 401) {
      showFieldErrors(form, { "": t("Wrong user name or password.") });
      form.password.select();
    } else if (err instanceof ApiError && err.status === 429) {
      showFieldErrors(form, { "": t("Too many failed logins: try again later.") });
    } else {
      showFieldErrors(form, err instanceof ApiError ? err : { "": String(err) });
    }
  }
});
