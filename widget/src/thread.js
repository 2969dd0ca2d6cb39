// The thread: pages, sorting, "load more", permalinks, tabs, and comments added to it (posted here or arriving).

import { REPLIES_PAGE, SITE, els, flatten, indexComments, state, view } from "./state.js";
import { t } from "./strings.js";
import { announce, reduceMotion } from "./dom.js";
import { api, errorText } from "./api.js";
import { renderReactions } from "./reactions.js";
import { renderComment } from "./comments.js";
import { addInline, bumpPassage, loadInline } from "./inline.js";

export function renderHeading() {
  const n = state.page.comments || 0;
  els.heading.textContent = t("commentsHeading", { n });
  els.tabAllCount.textContent = String(n);
}

export function renderThread() {
  if (!state.comments.length) {
    els.thread.replaceChildren();
    els.empty.hidden = false;
  } else {
    els.empty.hidden = true;
    els.thread.replaceChildren(...state.comments.map((c) => renderComment(c, 0)));
  }
  els.more.hidden = !state.cursor;
}

export async function fetchPage(cursor) {
  const { data } = await api("GET", "/api/v1/comments", {
    query: { site: SITE, page: state.pageKey, sort: state.sort, limit: state.limit, cursor },
  });
  if (data.page) state.page = { ...state.page, ...data.page };
  state.cursor = data.next_cursor || null;
  const fresh = (data.comments || []).filter((c) => !state.index.has(c.id));
  indexComments(fresh);
  state.comments.push(...fresh);
  return fresh;
}

export async function loadThread() {
  els.threadStatus.textContent = t("loading");
  els.threadStatus.hidden = false;
  els.retry.hidden = true;
  state.comments = [];
  state.index.clear();
  state.cursor = null;
  try {
    await fetchPage(null);
    els.threadStatus.hidden = true;
    renderThread();
    renderHeading();
    renderReactions();
  } catch (err) {
    els.threadStatus.textContent = `${t("loadFailed")} ${errorText(err)}`;
    els.retry.hidden = false;
  }
}

export async function loadMore(all) {
  const buttons = els.more.querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  const before = state.comments.length;
  try {
    do {
      const fresh = await fetchPage(state.cursor);
      els.thread.append(...fresh.map((c) => renderComment(c, 0)));
    } while (all && state.cursor);
    els.more.hidden = !state.cursor;
    renderHeading();
    const first = state.comments[before];
    if (first) focusComment(first.id);
  } catch (err) {
    announce(errorText(err), true);
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

/** A permalink (#engagement-comment-ID, or #comment-ID as mails linked before): its comment is drawn in
 * its thread when the page of the thread did not carry it (its top-level comment first, marked), then focused. */
export async function showLinked() {
  const id = Number(/^#(?:engagement-)?comment-(\d+)$/.exec(location.hash)?.[1]);
  if (!id || !els.retry.hidden) return;
  selectTab("all");
  let gone = t("linkGone");
  if (!state.index.has(id)) {
    try {
      const { data } = await api("GET", `/api/v1/comments/${id}/context`, { query: { site: SITE, page: state.pageKey } });
      const top = data.comment;
      const at = state.comments.findIndex((c) => c.id === top.id);
      indexComments([top]);
      if (at < 0) {
        top.linked = true;
        state.comments.unshift(top);
        els.empty.hidden = true;
        els.thread.prepend(renderComment(top, 0));
      } else {
        state.comments[at] = top;
        rerenderThread(top);
      }
    } catch (err) {
      if (!err.status) gone = errorText(err);
    }
  }
  if (focusComment(id)) return;
  els.threadStatus.textContent = gone;
  els.threadStatus.hidden = false;
  announce(gone);
}

/** A top-level comment added to the thread: posted here, or arriving from elsewhere (see insertComment). */
export function addTopLevel(c) {
  indexComments([c]); // with any replies it arrives with
  state.page.comments = (state.page.comments || 0) + 1;
  // A new comment belongs first under "newest" and last under "oldest" (if that page is loaded).
  if (state.sort === "oldest" && state.cursor) {
    /* it will come with a later page */
  } else if (state.sort === "oldest") {
    state.comments.push(c);
  } else {
    state.comments.unshift(c);
  }
  renderThread();
  renderHeading();
  if (c.anchor) addInline(c);
}

/** A reply drawn under its parent (a comment object of the thread); ``focus`` moves the reader to it. */
export function addReply(parent, reply, { focus = true } = {}) {
  parent.replies = [...(parent.replies || []), reply];
  parent.reply_count = (parent.reply_count || 0) + 1;
  state.page.comments = (state.page.comments || 0) + 1;
  const entry = state.index.get(parent.id);
  const top = entry ? entry.root : parent;
  state.index.set(reply.id, { c: reply, root: top });
  rerenderThread(top);
  if (top.anchor?.passage) bumpPassage(top.anchor.passage, 1);
  renderHeading();
  if (focus) focusComment(reply.id);
}

/**
 * A comment that arrived from elsewhere (a live stream, say), drawn where it belongs without moving the
 * reader's focus. False when it is drawn already, or answers a comment this page of the thread lacks.
 */
export function insertComment(c) {
  if (state.index.has(c.id)) return false;
  if (c.parent == null) {
    addTopLevel(c);
    return true;
  }
  const parent = state.index.get(c.parent)?.c;
  if (!parent) return false;
  addReply(parent, c, { focus: false });
  return true;
}

export function focusComment(id, scope = els.thread) {
  const card = scope.querySelector(`[data-id="${id}"] > .eg-card`);
  if (!card) return;
  card.classList.add("eg-new");
  card.focus({ preventScroll: true });
  card.scrollIntoView({ block: "nearest", behavior: reduceMotion() ? "auto" : "smooth" });
  return card;
}

/** Draw a top-level comment again from its data (``old``: a copy of it, else the thread's); ``keepCards``
 * moves the cards already drawn into the new tree, so a reply being written, an edit or a question stays. */
export function rerenderThread(top, keepCards = false, old = els.thread.querySelector(`:scope > [data-id="${top.id}"]`)) {
  if (!old) return;
  const fresh = renderComment(top, 0, { withIds: Boolean(old.id) });
  const active = document.activeElement;
  if (keepCards) {
    for (const card of old.querySelectorAll(".eg-comment > .eg-card")) {
      fresh.querySelector(`[data-id="${card.parentElement.dataset.id}"] > .eg-card`)?.replaceWith(card);
    }
  }
  old.replaceWith(fresh);
  if (active !== document.activeElement && active?.isConnected) active.focus({ preventScroll: true });
  return fresh;
}

/** The next replies of a busy top-level comment, each drawn under its parent as the first draw would;
 * the same for the thread's comment and for its copies (the inline tab, a passage's box). */
export async function showMoreReplies(top, button) {
  const li = button.parentElement;
  const main = Boolean(li.id);
  // Disabling drops the focus; unless the reader went elsewhere, it goes to the first new reply.
  const lost = () => !view.root.contains(document.activeElement) || document.activeElement === button;
  button.disabled = true;
  try {
    const { data } = await api("GET", `/api/v1/comments/${top.id}/replies`, {
      query: { site: SITE, cursor: top.replies_cursor, limit: REPLIES_PAGE },
    });
    if (main ? state.index.get(top.id)?.c !== top : !li.isConnected) return; // drawn again meanwhile
    const known = new Map(flatten([top]).map((c) => [c.id, c]));
    const got = data.replies || [];
    const fresh = got.filter((r) => !known.has(r.id)); // the reader's own, posted meanwhile, is drawn already
    const parents = new Set();
    for (const r of fresh) {
      // The parent is drawn already or came earlier in this answer; a gone one leaves it to the top.
      const parent = known.get(r.parent) || top;
      parent.replies = [...(parent.replies || []), r];
      parents.add(parent);
      known.set(r.id, r);
      if (main) state.index.set(r.id, { c: r, root: top });
    }
    for (const p of parents) p.replies.sort((a, b) => new Date(a.created_at) - new Date(b.created_at) || a.id - b.id);
    top.replies_cursor = data.next_cursor || null;
    top.more_replies = top.replies_cursor ? Math.max(top.more_replies - got.length, 1) : 0;
    const focus = lost();
    const drawn = rerenderThread(top, true, main ? undefined : li);
    announce(t("repliesShown", { n: fresh.length }));
    if (!focus || !drawn) return;
    if (fresh[0]) focusComment(fresh[0].id, drawn);
    else (drawn.querySelector(":scope > .eg-more-replies") || els.heading).focus();
  } catch (err) {
    button.disabled = false;
    if (lost()) button.focus();
    announce(errorText(err), true);
  }
}

/* ---------- tabs ---------- */

export function selectTab(name, focus) {
  state.tab = name;
  for (const [key, tab, panel] of [["all", els.tabAll, els.panelAll], ["inline", els.tabInline, els.panelInline]]) {
    const on = key === name;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    panel.hidden = !on;
    if (on && focus) tab.focus();
  }
  if (name === "inline" && state.inline === null) loadInline();
}

export function tabKeys(ev) {
  if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(ev.key)) return;
  ev.preventDefault();
  const next = ev.key === "Home" ? "all" : ev.key === "End" ? "inline" : state.tab === "all" ? "inline" : "all";
  selectTab(next, true);
}
