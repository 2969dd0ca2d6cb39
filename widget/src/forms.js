// The comment form (top level, reply, inline feedback): controls, preview, checks, posting, the edit token kept.

import { SITE, state } from "./state.js";
import { locale, t } from "./strings.js";
import { announce, field, h, nextId } from "./dom.js";
import { store, tokens } from "./store.js";
import { api, errorText } from "./api.js";
import { commentHTML } from "./format.js";
import { identity } from "./identity.js";

/**
 * A comment form: top level, reply (``parent``) or inline feedback (``anchor``).
 * opts: {parent, anchor, label, placeholder, submitLabel, onPosted(comment), onCancel}
 */
export function commentForm(opts = {}) {
  const f = formControls(opts);
  const form = h(
    "form",
    { class: "eg-form", novalidate: true, "aria-label": opts.label || t("formHeading") },
    h("label", { for: f.body.id, class: "eg-sr" }, t("bodyLabel")),
    f.body,
    h("small", { id: `${f.body.id}-md`, class: "eg-hint eg-md" }, t("markdownHint")),
    identity.line(),
    h(
      "div",
      { class: "eg-row" },
      identity.field(field(t("nameLabel"), f.name)),
      identity.field(field(t("emailLabel"), f.email, t("emailHint"))),
      h("div", { class: "eg-field" }, h("label", { for: f.notify.id }, t("notifyLabel")), f.notify, f.notifyHint),
    ),
    h("div", { class: "eg-hp", "aria-hidden": "true" }, h("label", { for: f.honeypot.id }, t("honeypotLabel")), f.honeypot),
    h(
      "div",
      { class: "eg-actions" },
      f.status,
      opts.onCancel && h("button", { type: "button", class: "eg-btn", onclick: opts.onCancel }, t("cancel")),
      f.preview.button,
      f.submit,
    ),
  );
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && opts.onCancel) opts.onCancel();
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    sendComment(f, opts);
  });
  form.focusFirst = () => f.body.focus();
  return form;
}

/** The form's controls; "Notify of" is usable only with a valid e-mail address. */
export function formControls(opts) {
  const id = nextId();
  const author = store.get("engagement.author") || {};
  const f = {
    body: h("textarea", {
      id: `${id}-body`,
      name: "body",
      rows: opts.parent || opts.anchor ? 3 : 4,
      maxlength: 10000,
      placeholder: opts.placeholder || t("bodyPlaceholder"),
      "aria-describedby": `${id}-body-md`,
    }),
    name: h("input", { id: `${id}-name`, name: "name", maxlength: 100, autocomplete: "name", value: author.name || "" }),
    email: h("input", { id: `${id}-email`, name: "email", type: "email", maxlength: 320, autocomplete: "email", value: author.email || "" }),
    notify: h(
      "select",
      { id: `${id}-notify`, name: "notify", "aria-describedby": `${id}-nh` },
      h("option", { value: "none" }, t("notifyNone")),
      h("option", { value: "all" }, t("notifyAll")),
      h("option", { value: "replies" }, t("notifyReplies")),
    ),
    notifyHint: h("small", { id: `${id}-nh`, class: "eg-hint" }, t("notifyHint")),
    // People never see it; bots fill every field they find.
    honeypot: h("input", { id: `${id}-hp`, name: "website", tabindex: "-1", autocomplete: "off" }),
    status: h("p", { class: "eg-status", role: "status", "aria-live": "polite" }),
    submit: h("button", { type: "submit", class: "eg-btn eg-primary" }, opts.submitLabel || t("post")),
  };
  f.preview = previewToggle(f.body, f.status);
  const syncNotify = () => {
    const usable = identity.signedIn() || (f.email.value.trim() !== "" && f.email.validity.valid);
    f.notify.disabled = !usable;
    if (!usable) f.notify.value = "none";
    f.notifyHint.hidden = usable;
  };
  f.email.addEventListener("input", syncNotify);
  syncNotify();
  return f;
}

export function failForm(f, message, control) {
  f.status.textContent = message;
  f.status.classList.add("eg-error");
  if (control) {
    control.setAttribute("aria-invalid", "true");
    control.focus();
  }
}

/** "Preview" shows the server's rendering (the same as a posted comment's) instead of the text; "Edit" goes back. */
export function previewToggle(area, status) {
  let shown = null;
  let busy = false;
  const button = h("button", { type: "button", class: "eg-btn" }, t("preview"));
  const write = (focus) => {
    if (!shown) return;
    shown.remove();
    shown = null;
    area.hidden = false;
    button.textContent = t("preview");
    if (focus) area.focus();
  };
  button.addEventListener("click", async () => {
    if (shown) return write(true);
    if (busy) return;
    area.removeAttribute("aria-invalid");
    status.classList.remove("eg-error");
    status.textContent = "";
    const text = area.value.trim();
    if (!text) return failForm({ status }, t("needBody"), area);
    busy = true;
    try {
      const { data } = await api("POST", "/api/v1/preview", { body: { site: SITE, body: text } });
      if (area.value.trim() !== text) return; // posted or changed meanwhile: this preview is stale
      shown = h("div", { class: "eg-body eg-preview", role: "region", "aria-label": t("previewLabel") }, commentHTML(data.html));
      area.hidden = true;
      area.after(shown);
      button.textContent = t("previewEdit");
      announce(t("previewShown"));
    } catch (err) {
      failForm({ status }, errorText(err), area);
    } finally {
      busy = false;
    }
  });
  return { button, write };
}

/** The POST body from a form, or null after saying what is missing. */
export function commentPayload(f, opts) {
  for (const c of [f.body, f.name, f.email]) c.removeAttribute("aria-invalid");
  f.status.classList.remove("eg-error");
  const text = f.body.value.trim();
  const email = f.email.value.trim();
  if (!text) return failForm(f, t("needBody"), f.body);
  const payload = { site: SITE, page: state.pageKey, page_title: state.pageTitle, body: text, locale: locale() };
  if (identity.signedIn()) {
    // The site's sign-in gives the name and the address: the form sends neither.
    if (f.notify.value !== "none") payload.notify = f.notify.value;
  } else {
    if (!f.name.value.trim()) return failForm(f, t("needName"), f.name);
    if (!f.email.validity.valid) return failForm(f, t("badEmail"), f.email);
    payload.author = { name: f.name.value.trim() };
    if (email) payload.author.email = email;
    if (email && f.notify.value !== "none") payload.notify = f.notify.value;
  }
  if (f.honeypot.value) payload.honeypot = f.honeypot.value;
  if (opts.parent) payload.parent = opts.parent;
  if (opts.anchor) payload.anchor = opts.anchor;
  return payload;
}

export async function sendComment(f, opts) {
  f.preview.write();
  const payload = commentPayload(f, opts);
  if (!payload) return;
  f.submit.disabled = true;
  f.submit.textContent = t("posting");
  f.status.textContent = "";
  try {
    const { status: code, data } = await api("POST", "/api/v1/comments", { body: payload });
    if (payload.author) store.set("engagement.author", { name: payload.author.name, email: payload.author.email || "" });
    f.body.value = "";
    const messages = [code === 202 ? t("pending") : t("published")];
    if (data.confirmation_needed) messages.push(t("confirmEmail"));
    f.status.textContent = messages.join(" ");
    announce(f.status.textContent);
    if (data.comment) keepToken(data, payload.body);
    if (code !== 202 && data.comment) opts.onPosted?.(data.comment);
  } catch (err) {
    const controls = { body: f.body, name: f.name, email: f.email, notify: f.notify, author_name: f.name, author_email: f.email };
    failForm(f, errorText(err), controls[String(err.field).replace("author.", "author_")]);
  } finally {
    f.submit.disabled = false;
    f.submit.textContent = opts.submitLabel || t("post");
  }
}

export function keepToken(data, text) {
  if (!data.edit_token) return;
  const c = data.comment;
  // The server counts the window from the comment's creation, a moment before this.
  const until = Date.now() + (state.site?.edit_window_seconds ?? 900) * 1000;
  tokens.put(c.id, { token: data.edit_token, expires: until, body: text });
}
