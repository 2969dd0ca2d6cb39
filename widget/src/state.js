// The shared state: the script tag and its settings, the thread's data, the container and the skeleton's elements.

export const script =
  document.currentScript || document.querySelector("script[data-site][src*='widget.js']");
export const BASE = script ? new URL(script.src, location.href).origin : "";
export const SITE = script?.dataset.site || "";
export const MAX_DEPTH = 3; // nesting levels shown; deeper replies join the deepest one, "@name" in front
export const REPLIES_PAGE = 50; // replies a "Show more replies" click asks for (the thread page carries as many)
export const UI = "eg-ui"; // everything we add to the article carries it, so quotes never include it

export const state = {
  site: null,
  page: { comments: 0, reactions: {}, my_reaction: null },
  pageKey: "",
  pageTitle: "",
  sort: "newest",
  limit: 20,
  comments: [],
  cursor: null,
  index: new Map(), // id → {c, root}
  inline: null, // anchored comments, loaded with the tab or for passage counts
  passages: {}, // passage id → comment count
  tab: "all",
};
export const els = {};

/** Set at start: the container, the article inline feedback quotes, the theme the container forces. */
export const view = {
  root: null,
  article: null,
  theme: null, // "light" or "dark" when the container forces one
};

export const flatten = (list) => list.flatMap((c) => [c, ...flatten(c.replies || [])]);

export function indexComments(list, rootComment) {
  for (const c of list) {
    state.index.set(c.id, { c, root: rootComment || c });
    indexComments(c.replies || [], rootComment || c);
  }
}
