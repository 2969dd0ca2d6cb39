// A reader's own changes: the reply form under a comment, editing and deleting one's own within the window.

import { els, state } from "./state.js";
import { t } from "./strings.js";
import { announce, h, nextId } from "./dom.js";
import { tokens } from "./store.js";
import { api, errorText } from "./api.js";
import { commentForm, previewToggle } from "./forms.js";
import { actions, isDeleted, nameOf, renderComment } from "./comments.js";
import { addReply, renderHeading, renderThread, rerenderThread } from "./thread.js";
import { bumpPassage, renderInlineTab } from "./inline.js";

export function openReply(c, bar) {
  const card = bar.closest(".eg-card");
  const open = card.querySelector(":scope > .eg-form");
  if (open) return open.focusFirst();
  const opener = document.activeElement;
  const form = commentForm({
    parent: c.id,
    label: t("replyingTo", { name: nameOf(c) }),
    placeholder: t("replyPlaceholder"),
    submitLabel: t("postReply"),
    onCancel: () => {
      form.remove();
      opener?.focus();
    },
    onPosted: (reply) => {
      form.remove();
      addReply(c, reply);
    },
  });
  card.append(form);
  form.focusFirst();
}

export function openEdit(c, bar) {
  const mine = tokens.get(c.id);
  const card = bar.closest(".eg-card");
  if (!mine) {
    bar.replaceWith(actions(c, Boolean(bar.closest("[id^='engagement-comment-']"))));
    return announce(t("windowClosed"), true);
  }
  const body = card.querySelector(":scope > .eg-body");
  const id = nextId();
  const area = h("textarea", { id, rows: 4, maxlength: 10000 });
  area.value = mine.body || body.textContent.trim();
  const status = h("p", { class: "eg-status", role: "status", "aria-live": "polite" });
  const save = h("button", { type: "submit", class: "eg-btn eg-primary" }, t("save"));
  const preview = previewToggle(area, status);
  const close = () => {
    form.replaceWith(body);
    bar.hidden = false;
    bar.querySelector("button:nth-of-type(1)")?.focus();
  };
  const form = h(
    "form",
    { class: "eg-form eg-edit", novalidate: true },
    h("label", { for: id, class: "eg-sr" }, t("edit")),
    area,
    h("div", { class: "eg-actions" }, status, h("button", { type: "button", class: "eg-btn", onclick: close }, t("cancel")), preview.button, save),
  );
  form.addEventListener("keydown", (ev) => ev.key === "Escape" && close());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    preview.write();
    const text = area.value.trim();
    if (!text) return (status.textContent = t("needBody"));
    save.disabled = true;
    save.textContent = t("saving");
    try {
      const { data } = await api("PATCH", `/api/v1/comments/${c.id}`, { body: { body: text }, token: mine.token });
      Object.assign(c, data.comment || data, { replies: c.replies });
      tokens.put(c.id, { ...mine, body: text });
      replaceEverywhere(c);
      announce(t("saved"));
      document.querySelector(`#engagement-comment-${c.id} > .eg-card`)?.focus();
    } catch (err) {
      status.textContent = err.status === 403 ? t("windowClosed") : errorText(err);
      save.disabled = false;
      save.textContent = t("save");
    }
  });
  body.replaceWith(form);
  bar.hidden = true;
  area.focus();
}

export function askDelete(c, bar) {
  const mine = tokens.get(c.id);
  const question = h(
    "div",
    { class: "eg-confirm", role: "group", "aria-label": t("confirmDelete") },
    h("span", {}, t("confirmDelete")),
    h("button", { type: "button", class: "eg-btn eg-danger-btn", onclick: () => doDelete(c, mine, question) }, t("yesDelete")),
    h("button", { type: "button", class: "eg-btn", onclick: () => { question.replaceWith(bar); bar.querySelector(".eg-danger")?.focus(); } }, t("keep")),
  );
  bar.replaceWith(question);
  question.querySelector("button").focus();
}

export async function doDelete(c, mine, question) {
  if (!mine) return announce(t("windowClosed"), true);
  try {
    await api("DELETE", `/api/v1/comments/${c.id}`, { token: mine.token });
    tokens.drop(c.id);
    withdrawComment(c);
    announce(t("removed"));
    els.heading.focus();
  } catch (err) {
    question.querySelector("span").textContent = err.status === 403 ? t("windowClosed") : errorText(err);
  }
}

/** A comment gone from the page (deleted here, or withdrawn as the live stream says), once: the
 * stream's notice may come before or after the answer to the reader's own delete. */
export function withdrawComment(c) {
  const entry = state.index.get(c.id);
  if (!entry || isDeleted(entry.c)) return;
  state.page.comments = Math.max(0, (state.page.comments || 0) - 1);
  removeComment(entry.c);
  renderHeading();
}

/** Drop a deleted comment, or keep it as a placeholder when replies hang from it. */
export function removeComment(c) {
  const entry = state.index.get(c.id);
  const top = entry ? entry.root : c;
  const passage = top.anchor?.passage;
  const keep = (c.replies || []).length > 0;
  if (keep) {
    Object.assign(c, { deleted: true, status: "deleted", html: "", author: { name: null }, anchor: null });
  } else {
    state.index.delete(c.id);
    const parent = c.parent != null ? state.index.get(c.parent)?.c : null;
    if (parent) parent.replies = parent.replies.filter((r) => r.id !== c.id);
    else state.comments = state.comments.filter((x) => x.id !== c.id);
  }
  if (top === c && !keep) document.getElementById(`engagement-comment-${c.id}`)?.remove();
  else if (entry) rerenderThread(top);
  for (const el of document.querySelectorAll(`.eg-comment[data-id="${c.id}"]:not([id])`)) {
    if (keep) el.replaceWith(renderComment(c, Number(el.dataset.depth) || 0, { withIds: false }));
    else el.remove();
  }
  if (state.inline && top === c) state.inline = state.inline.filter((x) => x.id !== c.id);
  if (passage) bumpPassage(passage, -1);
  renderInlineTab();
  if (!state.comments.length) renderThread();
}

export function replaceEverywhere(c) {
  const entry = state.index.get(c.id);
  if (entry) rerenderThread(entry.root);
  for (const el of document.querySelectorAll(`.eg-comment[data-id="${c.id}"]:not([id])`)) {
    el.replaceWith(renderComment(c, Number(el.dataset.depth) || 0, { withIds: false }));
  }
}
