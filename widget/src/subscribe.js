// Subscribing with an e-mail alone (the bell): new comments on this page, or a digest.

import { SITE, state } from "./state.js";
import { locale, t } from "./strings.js";
import { ICON_BELL, field, h, nextId, svg } from "./dom.js";
import { store } from "./store.js";
import { api, errorText } from "./api.js";

export function subscribePanel() {
  const id = nextId();
  const email = h("input", { id: `${id}-e`, type: "email", autocomplete: "email", maxlength: 320, value: (store.get("engagement.author") || {}).email || "" });
  const kind = h(
    "select",
    { id: `${id}-k` },
    h("option", { value: "thread" }, t("subscribeThread")),
    h("option", { value: "daily" }, t("subscribeDaily")),
    h("option", { value: "weekly" }, t("subscribeWeekly")),
  );
  const status = h("p", { class: "eg-status", role: "status", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "eg-btn eg-primary" }, t("subscribe"));
  const form = h(
    "form",
    { class: "eg-form eg-subscribe", novalidate: true, id: `${id}-f`, hidden: true, "aria-label": t("subscribe") },
    h("p", { class: "eg-hint" }, t("subscribeIntro")),
    h("div", { class: "eg-row" }, field(t("emailLabel"), email), field(t("subscribeKind"), kind)),
    h("div", { class: "eg-actions" }, status, submit),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    subscribe({ email, kind, status, submit });
  });
  const toggle = h(
    "button",
    { type: "button", class: "eg-btn eg-ghost", "aria-expanded": "false", "aria-controls": form.id },
    svg(ICON_BELL),
    h("span", {}, t("subscribe")),
  );
  toggle.addEventListener("click", () => {
    form.hidden = !form.hidden;
    toggle.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) email.focus();
  });
  return { toggle, form };
}

export async function subscribe({ email, kind, status, submit }) {
  status.classList.remove("eg-error");
  status.textContent = "";
  if (!email.value.trim() || !email.validity.valid) {
    status.classList.add("eg-error");
    status.textContent = t("badEmail");
    return email.focus();
  }
  const body = { site: SITE, email: email.value.trim(), kind: kind.value === "thread" ? "thread" : "digest", locale: locale() };
  if (kind.value === "thread") Object.assign(body, { page: state.pageKey, page_title: state.pageTitle });
  else body.cadence = kind.value;
  submit.disabled = true;
  try {
    await api("POST", "/api/v1/subscriptions", { body }); // always 202: it never says if an address is known
    status.textContent = t("subscribed");
  } catch (err) {
    status.classList.add("eg-error");
    status.textContent = errorText(err);
  } finally {
    submit.disabled = false;
  }
}
