// What every page does: the language switch and the logout button.

import { api } from "./api.js";
import { ready } from "./i18n.js";
import { toastError } from "./ui.js";

const select = document.getElementById("language");
if (select) {
  select.addEventListener("change", async () => {
    const lang = select.value;
    try {
      if (select.dataset.user) await api.patch("/me", { language: lang });
      else document.cookie = `sb_lang=${encodeURIComponent(lang)}; path=/; max-age=31536000; samesite=strict`;
      window.location.reload();
    } catch (err) {
      toastError(err);
    }
  });
}

const logout = document.getElementById("logout");
if (logout) {
  logout.addEventListener("click", async () => {
    try {
      await api.del("/auth/session", { noRedirect: true });
    } catch (err) {
      if (err.status !== 401) { toastError(err); return; }
    }
    window.location.assign("/");
  });
}

await ready;
document.documentElement.dataset.ready = "1";
