// One comment drawn: author, time, passage, body, votes and actions; reporting it to the moderators.

import { identity } from "./identity.js";
import { MAX_DEPTH, REPLIES_PAGE, state } from "./state.js";
import { t } from "./strings.js";
import { announce, h, nextId } from "./dom.js";
import { tokens } from "./store.js";
import { api, errorText } from "./api.js";
import { ago, commentHTML, fullDate, hue, quoteOf } from "./format.js";
import { askDelete, openEdit, openReply } from "./edit.js";
import { showMoreReplies } from "./thread.js";
import { passageSelector, showInArticle, textIndex } from "./quotes.js";

export const isDeleted = (c) => Boolean(c.deleted || c.status === "deleted");
export const nameOf = (c) => (isDeleted(c) ? t("anonymous") : c.author?.name || t("anonymous"));

export function avatar(c) {
  const name = isDeleted(c) ? "" : nameOf(c);
  const letter = name ? [...name.trim()][0].toUpperCase() : "·";
  const el = h("span", { class: "eg-avatar", "aria-hidden": "true" }, letter);
  el.style.setProperty("--eg-hue", String(hue(name))); // CSSOM, not a style attribute: CSP allows it
  return el;
}

export function anchorBlock(c) {
  if (!c.anchor || isDeleted(c)) return null;
  const quote = quoteOf(c.anchor);
  // A passage without a quote is shown by its own words, as the article has them now.
  const passage = c.anchor.passage && document.querySelector(passageSelector(c.anchor.passage));
  const words = quote?.exact || (passage ? textIndex(passage).text.trim().slice(0, 300) : "");
  return h(
    "div",
    { class: "eg-anchor" },
    h("span", { class: "eg-anchor-label" }, t("onPassage")),
    words ? h("q", {}, words) : null,
    h("button", { type: "button", class: "eg-link", onclick: () => showInArticle(c.anchor) }, t("showInArticle")),
  );
}

export function votes(c) {
  const vote = (value) => async () => {
    try {
      const { data } = await api("PUT", `/api/v1/comments/${c.id}/vote`, {
        body: { value: c.my_vote === value ? 0 : value },
      });
      c.score = data.score;
      c.my_vote = data.my_vote;
      for (const el of document.querySelectorAll(`.eg-comment[data-id="${c.id}"] > .eg-card .eg-votes`)) {
        const fresh = votes(c);
        const pressed = el.contains(document.activeElement) ? document.activeElement.dataset.vote : null;
        el.replaceWith(fresh);
        if (pressed) fresh.querySelector(`[data-vote="${pressed}"]`)?.focus();
      }
    } catch (err) {
      announce(errorText(err), true);
    }
  };
  const disabled = isDeleted(c);
  return h(
    "span",
    { class: "eg-votes" },
    h("button", { type: "button", class: "eg-vote", "data-vote": "up", "aria-label": t("voteUp"), "aria-pressed": String(c.my_vote === 1), disabled, onclick: vote(1) }, "▲"),
    h("span", { class: "eg-score", "aria-label": t("score", { n: c.score }) }, String(c.score ?? 0)),
    h("button", { type: "button", class: "eg-vote", "data-vote": "down", "aria-label": t("voteDown"), "aria-pressed": String(c.my_vote === -1), disabled, onclick: vote(-1) }, "▼"),
  );
}

/**
 * A comment and its replies. ``context`` is the parent named with "@" when the reply is shown
 * flattened; ``flat`` leaves the replies to the caller; ``withIds`` marks the main thread's copy
 * (the inline tab and passage boxes show copies, without ids and without a Reply button).
 */
export function renderComment(c, depth, { context = null, flat = false, withIds = true } = {}) {
  const deleted = isDeleted(c);
  const li = h(
    "li",
    {
      class: `eg-comment eg-depth-${depth}${c.linked ? " eg-linked" : ""}`,
      "data-id": c.id,
      "data-depth": depth,
      id: withIds ? `engagement-comment-${c.id}` : null,
    },
    c.linked && h("p", { class: "eg-tag" }, t("linkedThread")),
  );
  const nameId = nextId();
  const body = h("div", { class: "eg-body" });
  if (deleted) body.append(h("p", { class: "eg-muted" }, t("deletedComment")));
  else body.append(commentHTML(c.html));
  const card = h(
    "article",
    { class: `eg-card${deleted ? " eg-deleted" : ""}`, "aria-labelledby": nameId, tabindex: "-1" },
    h(
      "header",
      { class: "eg-meta" },
      avatar(c),
      h("span", { class: "eg-name", id: nameId }, deleted ? t("deletedComment") : nameOf(c)),
      !deleted && c.author?.supporter && h("span", { class: "eg-badge" }, t("supporter")),
      !deleted && identity.mark(c),
      context && h("span", { class: "eg-context" }, t("inReplyTo", { name: nameOf(context) })),
      // The link's name starts with what it shows ("3 hours ago"), so a voice-control user who
      // says the visible words finds it (WCAG 2.5.3); the rest is for screen readers only.
      h(
        "a",
        { class: "eg-time", href: `#engagement-comment-${c.id}`, title: fullDate(c.created_at) },
        h("time", { datetime: c.created_at }, ago(c.created_at)),
        h("span", { class: "eg-sr" }, `(${t("permalink")}, ${fullDate(c.created_at)})`),
      ),
      c.edited_at && !deleted && h("span", { class: "eg-edited", title: fullDate(c.edited_at) }, `· ${t("edited")}`),
    ),
    anchorBlock(c),
    body,
    deleted ? null : actions(c, withIds),
  );
  li.append(card);
  if (!flat && c.replies?.length) {
    const ol = h("ol", { class: "eg-replies" });
    appendReplies(ol, c.replies, depth + 1, c, false, withIds);
    li.append(ol);
  }
  if (c.replies_cursor && c.more_replies > 0) {
    const n = Math.min(c.more_replies, REPLIES_PAGE);
    const onclick = (ev) => showMoreReplies(c, ev.currentTarget);
    li.append(h("button", { type: "button", class: "eg-btn eg-more-replies", "aria-describedby": nameId, onclick }, t("moreReplies", { n })));
  }
  return li;
}

export function appendReplies(ol, replies, depth, parent, flattened, withIds) {
  for (const r of replies || []) {
    const atCap = depth >= MAX_DEPTH - 1;
    // The real parent (the API may flatten very deep replies itself), else the one above.
    const context = flattened ? state.index.get(r.parent)?.c || parent : null;
    ol.append(renderComment(r, depth, { context, flat: atCap, withIds }));
    if (atCap) appendReplies(ol, r.replies, depth, r, true, withIds);
  }
}

export function actions(c, replyable) {
  const bar = h("footer", { class: "eg-bar" }, votes(c));
  if (replyable) {
    bar.append(h("button", { type: "button", class: "eg-link", "aria-label": t("replyingTo", { name: nameOf(c) }), onclick: () => openReply(c, bar) }, t("reply")));
  }
  const mine = tokens.get(c.id);
  if (mine) {
    const edit = h("button", { type: "button", class: "eg-link", onclick: () => openEdit(c, bar) }, t("edit"));
    const del = h("button", { type: "button", class: "eg-link eg-danger", onclick: () => askDelete(c, bar) }, t("del"));
    bar.append(edit, del);
    // The server refuses once the edit window closes: the buttons go at that moment too.
    const left = mine.expires - Date.now();
    if (left < 2 ** 31 - 1) setTimeout(() => (edit.remove(), del.remove()), left);
  } else if (!isDeleted(c)) {
    bar.append(h("button", { type: "button", class: "eg-link", "aria-expanded": "false", onclick: (ev) => openReport(c, bar, ev.currentTarget) }, t("report")));
  }
  return bar;
}

/* ---------- report a comment to the moderators ---------- */

export function openReport(c, bar, opener) {
  if (bar.querySelector(".eg-report")) return;
  const id = `eg-report-${c.id}`;
  const select = h("select", { id, name: "reason" }, ...t("reasons").split("|").map((pair) => h("option", { value: pair.split("=")[0] }, pair.split("=")[1])));
  const status = h("span", { class: "eg-status", role: "status" });
  const close = () => (form.remove(), opener.setAttribute("aria-expanded", "false"), opener.focus());
  const form = h(
    "form",
    { class: "eg-report" },
    h("label", { for: id }, t("reportReason")),
    select,
    h("button", { type: "submit", class: "eg-btn" }, t("reportSend")),
    h("button", { type: "button", class: "eg-btn", onclick: close }, t("cancel")),
    status,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", `/api/v1/comments/${c.id}/report`, { body: { reason: select.value } });
      form.replaceWith(h("span", { class: "eg-status", role: "status" }, t("reportThanks")));
      opener.remove();
      announce(t("reportThanks"));
    } catch (err) {
      status.textContent = errorText(err);
    }
  });
  bar.append(form);
  opener.setAttribute("aria-expanded", "true");
  select.focus();
}
