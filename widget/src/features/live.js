// The live thread's place in the widget: started once the thread is drawn (stream.js does the rest).

import { api } from "../api.js";
import { withdrawComment } from "../edit.js";
import { onReady } from "../hooks.js";
import { renderReactions } from "../reactions.js";
import { BASE, SITE, els, flatten, indexComments, state } from "../state.js";
import { liveThread } from "../stream.js";
import { defineStrings, t } from "../strings.js";
import { addTopLevel, focusComment, insertComment, loadThread, renderHeading, rerenderThread } from "../thread.js";

defineStrings({
  liveNew: "Show {n} new comment|Show {n} new comments",
  liveMissed: "New comments: show them",
});

onReady(({ root }) => {
  const live = liveThread({
    base: BASE,
    site: SITE,
    page: () => state.pageKey,
    known: (id) => state.index.has(id),
    show,
    removed,
    counts: (reactions) => {
      state.page.reactions = reactions;
      renderReactions();
    },
    reload: loadThread,
    latest,
    t,
    pollMs: Math.max(Number(root.dataset.pollSeconds) || 60, 5) * 1000,
  });
  els.thread.before(live.button);
  new MutationObserver(live.refresh).observe(els.thread, { childList: true, subtree: true });
  live.start();
});

/** A comment the stream announced, drawn under its parent (or on top), marked and focused. Its parent
 * may be missing from this page of the thread: then its whole conversation comes first, as a permalink's. */
async function show(id) {
  const { data } = await api("GET", `/api/v1/comments/${id}/context`, { query: { site: SITE, page: state.pageKey } });
  const top = data.comment;
  const c = flatten([top]).find((one) => one.id === id);
  if (!c || state.index.has(id)) return;
  if (!insertComment(c)) {
    const at = state.comments.findIndex((one) => one.id === top.id);
    if (at < 0) addTopLevel(top);
    else {
      state.comments[at] = top;
      indexComments([top]);
      state.page.comments = (state.page.comments || 0) + 1;
      rerenderThread(top);
      renderHeading();
    }
  }
  focusComment(id);
}

/** A comment withdrawn from the page: gone from this thread (a placeholder if replies hang from it).
 * Its author, whose edit sent it back to moderation, keeps seeing it as pending. */
function removed(id) {
  const entry = state.index.get(id);
  if (entry && entry.c.status !== "pending") withdrawComment(entry.c);
}

/** The ids of the newest comments and their replies, oldest first: what polling compares. */
async function latest() {
  const { data } = await api("GET", "/api/v1/comments", {
    query: { site: SITE, page: state.pageKey, sort: "newest", limit: 20 },
  });
  return flatten(data.comments || []).map((c) => c.id).reverse();
}
