/* engagement widget: reactions, threaded comments and inline feedback, embedded with one script tag.
 *
 *   <script src="https://comments.example.org/widget.js" data-site="KEY" async></script>
 *   <div id="engagement-thread"></div>
 *
 * No framework, no cookie, no third-party request: every call goes to the script's own origin.
 * Only the server-sanitised `html` of a comment is ever inserted as HTML; everything else is text.
 */
import { liveThread } from "./stream.js";

(() => {
  "use strict";

  const script =
    document.currentScript || document.querySelector("script[data-site][src*='widget.js']");
  if (!script || window.EngagementWidget) return;

  const BASE = new URL(script.src, location.href).origin;
  const SITE = script.dataset.site || "";
  const MAX_DEPTH = 3; // nesting levels shown; deeper replies join the deepest one, "@name" in front
  const REPLIES_PAGE = 50; // replies a "Show more replies" click asks for (the thread page carries as many)
  const CONTEXT = 32; // characters of prefix and suffix that pin a quote down in the article
  const MAX_QUOTE = 1000;
  const UI = "eg-ui"; // everything we add to the article carries it, so quotes never include it

  const STRINGS = {
    locale: "en",
    reactionsHeading: "What do you think?",
    responses: "{n} response|{n} responses",
    commentsHeading: "{n} Comment|{n} Comments",
    noComments: "Comments",
    tabAll: "Comments",
    tabInline: "Inline Feedbacks",
    sortLabel: "Sort by",
    sortNewest: "Newest",
    sortOldest: "Oldest",
    sortTop: "Most voted",
    subscribe: "Subscribe",
    subscribeIntro: "Get new comments on this page by e-mail. Unsubscribe with one click.",
    subscribeKind: "Send me",
    subscribeThread: "New comments on this page",
    subscribeDaily: "A daily digest",
    subscribeWeekly: "A weekly digest",
    subscribed: "Almost done: check your inbox to confirm your subscription.",
    formHeading: "Leave a comment",
    bodyLabel: "Comment",
    bodyPlaceholder: "Join the discussion…",
    replyPlaceholder: "Write your reply…",
    passagePlaceholder: "What do you think of this passage?",
    markdownHint: "Markdown works: **bold**, _italic_, `code`, [link](https://…), > quote",
    nameLabel: "Name",
    emailLabel: "E-mail",
    emailHint: "Optional. Never shown.",
    notifyLabel: "Notify of",
    notifyNone: "Nothing",
    notifyAll: "New follow-up comments",
    notifyReplies: "New replies to my comments",
    notifyHint: "Needs your e-mail address.",
    honeypotLabel: "Leave this field empty",
    post: "Post comment",
    postReply: "Post reply",
    posting: "Posting…",
    preview: "Preview",
    previewEdit: "Edit",
    previewLabel: "Preview of your comment",
    previewShown: "Preview shown: this is how your comment will look.",
    cancel: "Cancel",
    report: "Report",
    reportReason: "Why report this comment?",
    reportSend: "Send report",
    reportThanks: "Thanks, a moderator will look at it.",
    reasons: "spam=Spam|abuse=Abuse or harassment|off_topic=Off topic|other=Something else",
    save: "Save",
    saving: "Saving…",
    edit: "Edit",
    del: "Delete",
    confirmDelete: "Delete this comment?",
    yesDelete: "Yes, delete",
    keep: "Keep it",
    reply: "Reply",
    replyingTo: "Reply to {name}",
    inReplyTo: "@{name}",
    edited: "edited",
    deletedComment: "This comment was deleted.",
    anonymous: "Anonymous",
    supporter: "Supporter",
    voteUp: "Vote up",
    voteDown: "Vote down",
    score: "Score: {n}",
    loadMore: "Load more comments",
    viewAll: "View all comments",
    moreReplies: "Show {n} more reply|Show {n} more replies",
    repliesShown: "{n} more reply shown.|{n} more replies shown.",
    loading: "Loading comments…",
    empty: "No comments yet. Start the conversation!",
    inlineEmpty: "No inline feedback yet. Select a sentence in the article, or use a passage's comment button.",
    loadFailed: "The comments could not be loaded.",
    retry: "Try again",
    needBody: "Write something first.",
    needName: "Please tell us your name.",
    badEmail: "That e-mail address does not look right.",
    published: "Your comment is published.",
    pending: "Thanks! Your comment is waiting for moderation.",
    confirmEmail: "Check your inbox to confirm your e-mail address.",
    saved: "Your changes are saved.",
    removed: "Your comment is deleted.",
    windowClosed: "The time to change this comment is over.",
    tooFast: "Slow down a little: try again in {s} seconds.",
    offline: "The comment server could not be reached. Check your connection and try again.",
    failed: "That did not work: {reason}",
    commentOnPassage: "Comment on this passage",
    passageBadge: "{n} comment on this passage|{n} comments on this passage",
    passageBox: "Comments on this passage",
    close: "Close",
    onPassage: "On the passage",
    showInArticle: "Show in article",
    passageMissing: "That passage is no longer in the article.",
    highlighted: "The passage is highlighted in the article.",
    permalink: "link to this comment",
    linkedThread: "The conversation you followed a link to",
    linkGone: "Sorry, the comment you followed a link to is not available: it may have been removed.",
    justNow: "just now",
    liveNew: "Show {n} new comment|Show {n} new comments",
    liveMissed: "New comments: show them",
    support: "Support us",
  };

  /* ---------- small tools ---------- */

  const parseJSON = (text) => {
    try {
      return text ? JSON.parse(text) : {};
    } catch {
      return {};
    }
  };

  let S = STRINGS;
  const t = (key, vars = {}) => {
    let s = String(S[key] ?? STRINGS[key] ?? key);
    if (s.includes("|")) s = s.split("|")[vars.n === 1 ? 0 : 1];
    return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  };

  /** An element with attributes, listeners (on…) and children; strings become text, never HTML. */
  const h = (tag, attrs = {}, ...children) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) if (c != null && c !== false) el.append(c);
    return el;
  };

  const svg = (d) => {
    const ns = "http://www.w3.org/2000/svg";
    const el = document.createElementNS(ns, "svg");
    el.setAttribute("viewBox", "0 0 24 24");
    el.setAttribute("aria-hidden", "true");
    el.setAttribute("class", "eg-icon");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    el.append(path);
    return el;
  };
  const ICON_BUBBLE = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  const ICON_HEART =
    "M12 21s-7.5-4.6-9.5-9.3C1.1 8.4 3.3 5 6.6 5c2 0 3.4 1.1 4.4 2.6h2C14 6.1 15.4 5 17.4 5c3.3 0 5.5 3.4 4.1 6.7C19.5 16.4 12 21 12 21z";
  const ICON_BELL = "M12 22a2.5 2.5 0 0 0 2.5-2.5h-5A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5-6.7V3.5a2 2 0 0 0-4 0v.8A7 7 0 0 0 5 11v5l-2 2v1h18v-1z";

  let uid = 0;
  const nextId = () => `eg-${++uid}`;
  const reduceMotion = () => window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;

  /* ---------- storage: reader id, edit tokens, the author's name (localStorage, never a cookie) ---------- */

  const store = (() => {
    const memory = {};
    let ls = null;
    try {
      ls = window.localStorage;
      ls.setItem("engagement.probe", "1");
      ls.removeItem("engagement.probe");
    } catch {
      ls = null; // storage blocked: the session still works, it just forgets on reload
    }
    return {
      get(key) {
        try {
          return JSON.parse((ls ? ls.getItem(key) : memory[key]) ?? "null");
        } catch {
          return null;
        }
      },
      set(key, value) {
        const text = JSON.stringify(value);
        try {
          if (ls) return ls.setItem(key, text);
        } catch {
          /* quota: keep it in memory */
        }
        memory[key] = text;
      },
    };
  })();

  const readerId = () => {
    let id = store.get("engagement.reader");
    if (typeof id !== "string" || !/^[0-9a-f]{32}$/.test(id)) {
      const bytes = crypto.getRandomValues(new Uint8Array(16));
      id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      store.set("engagement.reader", id);
    }
    return id;
  };

  const TOKENS = "engagement.tokens";
  const tokens = {
    all() {
      const all = store.get(TOKENS) || {};
      const now = Date.now();
      for (const id of Object.keys(all)) if (!(all[id]?.expires > now)) delete all[id];
      return all;
    },
    get(id) {
      return this.all()[id] || null;
    },
    put(id, entry) {
      const all = this.all();
      all[id] = entry;
      store.set(TOKENS, all);
    },
    drop(id) {
      const all = this.all();
      delete all[id];
      store.set(TOKENS, all);
    },
  };

  /* ---------- the API ---------- */

  let READER = "";

  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      super(body.reason || `HTTP ${status}`);
      this.status = status;
      this.code = body.code || "";
      this.field = body.field || "";
      this.reason = body.reason || (typeof body.detail === "string" ? body.detail : "");
      this.retryAfter = Number(retryAfter || body.retry_after || 0) || 60;
    }
  }

  async function api(method, path, { query, body, token } = {}) {
    const url = new URL(BASE + path);
    for (const [k, v] of Object.entries(query || {})) {
      for (const one of [].concat(v)) if (one != null && one !== "") url.searchParams.append(k, one);
    }
    const headers = { Accept: "application/json", "X-Engagement-Reader": READER };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    let res;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-cache", // revalidate with the ETag: a 304 is cheap, a stale thread after posting is not
      });
    } catch {
      throw new ApiError(0, { reason: t("offline") });
    }
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, data || {}, res.headers.get("Retry-After"));
    return { status: res.status, data: data || {} };
  }

  const errorText = (err) => {
    if (err.status === 429) return t("tooFast", { s: err.retryAfter });
    if (err.status === 0) return t("offline");
    return t("failed", { reason: err.reason || `HTTP ${err.status}` });
  };

  /* ---------- defence in depth for comment HTML (the server already sanitised it) ---------- */

  const FORBIDDEN = "script,style,iframe,frame,frameset,object,embed,link,meta,base,form,input,button,textarea,select,svg,math,template,img,video,audio,source";
  const SAFE_URL = /^(https?:|mailto:|#|\/|\.|[^:]*$)/i;

  function commentHTML(html) {
    const tpl = document.createElement("template"); // parsed inert: nothing loads, nothing runs
    tpl.innerHTML = html || "";
    for (const el of tpl.content.querySelectorAll(FORBIDDEN)) el.remove();
    for (const el of tpl.content.querySelectorAll("*")) {
      for (const attr of [...el.attributes]) {
        const name = attr.name.toLowerCase();
        const url = ["href", "src", "xlink:href", "action", "formaction"].includes(name);
        // eslint-disable-next-line no-control-regex
        const value = attr.value.replace(/[\u0000-\u0020]/g, "");
        if (name.startsWith("on") || name === "style" || name === "srcdoc" || (url && !SAFE_URL.test(value))) {
          el.removeAttribute(attr.name);
        }
      }
      if (el.tagName === "A") el.setAttribute("rel", "nofollow ugc noopener");
    }
    return tpl.content;
  }

  /* ---------- formatting ---------- */

  const UNITS = [
    ["year", 31536000],
    ["month", 2592000],
    ["week", 604800],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];

  function ago(iso) {
    const seconds = (new Date(iso).getTime() - Date.now()) / 1000;
    try {
      const rtf = new Intl.RelativeTimeFormat(S.locale || "en", { numeric: "auto" });
      for (const [unit, size] of UNITS) {
        if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
      }
    } catch {
      /* an old browser: the date alone will do */
    }
    return t("justNow");
  }

  const fullDate = (iso) => {
    try {
      return new Date(iso).toLocaleString(S.locale || "en", { dateStyle: "long", timeStyle: "short" });
    } catch {
      return iso;
    }
  };

  /** "👍 Like" → ["👍", "Like"]: the emoji shows large, the word stays readable. */
  const splitLabel = (label) => {
    const m = /^([^\p{L}\p{N}\s]+)\s+(.+)$/u.exec(label || "");
    return m ? [m[1], m[2]] : ["", label || ""];
  };

  const hue = (name) => {
    let x = 0;
    for (const ch of name) x = (x * 31 + ch.codePointAt(0)) % 360;
    return x;
  };

  /** The anchor as the API shows it: {passage, exact, prefix, suffix} or {passage, quote: {…}}. */
  const quoteOf = (anchor) => (anchor ? anchor.quote || (anchor.exact ? anchor : null) : null);

  /* ---------- state ---------- */

  const state = {
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
  const els = {};
  let root = null;
  let article = null;
  let live = null; // the live thread (stream.js)
  let liveTimer = 0;
  let toastTimer = 0;
  let THEME = null; // "light" or "dark" when the container forces one

  /** Say something to screen readers; ``visible`` also shows it for a while (errors, mostly). */
  function announce(message, visible = false) {
    // Clear first so the same message said twice is read twice.
    els.live.textContent = "";
    clearTimeout(liveTimer);
    liveTimer = setTimeout(() => {
      els.live.textContent = message;
    }, 50);
    if (!visible) return;
    els.toast.textContent = message;
    els.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (els.toast.hidden = true), 6000);
  }

  const flatten = (list) => list.flatMap((c) => [c, ...flatten(c.replies || [])]);

  function indexComments(list, rootComment) {
    for (const c of list) {
      state.index.set(c.id, { c, root: rootComment || c });
      indexComments(c.replies || [], rootComment || c);
    }
  }

  window.EngagementWidget = { version: "1", ready: false };

  /* ---------- reactions ---------- */

  function renderReactions() {
    const reactions = state.site?.reactions || [];
    const tallies = state.page.reactions || {};
    const total = Object.values(tallies).reduce((a, b) => a + (Number(b) || 0), 0);
    els.responses.textContent = t("responses", { n: total });
    els.reactionList.replaceChildren(
      ...reactions.map((r) => {
        const [emoji, label] = splitLabel(r.label);
        const mine = state.page.my_reaction === r.key;
        return h(
          "button",
          {
            type: "button",
            class: "eg-reaction",
            "aria-pressed": String(mine),
            "data-key": r.key,
            onclick: () => react(mine ? null : r.key),
          },
          emoji && h("span", { class: "eg-emoji", "aria-hidden": "true" }, emoji),
          h("span", { class: "eg-rlabel" }, label),
          h("span", { class: "eg-rcount" }, String(tallies[r.key] || 0)),
        );
      }),
    );
  }

  async function react(key) {
    const buttons = els.reactionList.querySelectorAll("button");
    const focused = document.activeElement?.dataset?.key; // disabling the buttons drops focus
    buttons.forEach((b) => (b.disabled = true));
    try {
      const { data } = await api("PUT", "/api/v1/reactions", {
        body: { site: SITE, page: state.pageKey, page_title: state.pageTitle, reaction: key },
      });
      state.page.reactions = data.reactions || {};
      state.page.my_reaction = data.my_reaction ?? null;
      renderReactions();
      if (focused) els.reactionList.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
    } catch (err) {
      buttons.forEach((b) => (b.disabled = false));
      if (focused) els.reactionList.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
      announce(errorText(err), true);
    }
  }

  /* ---------- the comment form ---------- */

  function field(label, control, hint) {
    const hintId = hint ? nextId() : null;
    if (hintId) control.setAttribute("aria-describedby", hintId);
    return h(
      "div",
      { class: "eg-field" },
      h("label", { for: control.id }, label),
      control,
      hint && h("small", { id: hintId, class: "eg-hint" }, hint),
    );
  }

  /**
   * A comment form: top level, reply (``parent``) or inline feedback (``anchor``).
   * opts: {parent, anchor, label, placeholder, submitLabel, onPosted(comment), onCancel}
   */
  function commentForm(opts = {}) {
    const f = formControls(opts);
    const form = h(
      "form",
      { class: "eg-form", novalidate: true, "aria-label": opts.label || t("formHeading") },
      h("label", { for: f.body.id, class: "eg-sr" }, t("bodyLabel")),
      f.body,
      h("small", { id: `${f.body.id}-md`, class: "eg-hint eg-md" }, t("markdownHint")),
      h(
        "div",
        { class: "eg-row" },
        field(t("nameLabel"), f.name),
        field(t("emailLabel"), f.email, t("emailHint")),
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
  function formControls(opts) {
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
      const usable = f.email.value.trim() !== "" && f.email.validity.valid;
      f.notify.disabled = !usable;
      if (!usable) f.notify.value = "none";
      f.notifyHint.hidden = usable;
    };
    f.email.addEventListener("input", syncNotify);
    syncNotify();
    return f;
  }

  function failForm(f, message, control) {
    f.status.textContent = message;
    f.status.classList.add("eg-error");
    if (control) {
      control.setAttribute("aria-invalid", "true");
      control.focus();
    }
  }

  /** "Preview" shows the server's rendering (the same as a posted comment's) instead of the text; "Edit" goes back. */
  function previewToggle(area, status) {
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
  function commentPayload(f, opts) {
    for (const c of [f.body, f.name, f.email]) c.removeAttribute("aria-invalid");
    f.status.classList.remove("eg-error");
    const text = f.body.value.trim();
    const email = f.email.value.trim();
    if (!text) return failForm(f, t("needBody"), f.body);
    if (!f.name.value.trim()) return failForm(f, t("needName"), f.name);
    if (!f.email.validity.valid) return failForm(f, t("badEmail"), f.email);
    const payload = { site: SITE, page: state.pageKey, page_title: state.pageTitle, author: { name: f.name.value.trim() }, body: text };
    if (email) payload.author.email = email;
    if (email && f.notify.value !== "none") payload.notify = f.notify.value;
    if (f.honeypot.value) payload.honeypot = f.honeypot.value;
    if (opts.parent) payload.parent = opts.parent;
    if (opts.anchor) payload.anchor = opts.anchor;
    return payload;
  }

  async function sendComment(f, opts) {
    f.preview.write();
    const payload = commentPayload(f, opts);
    if (!payload) return;
    f.submit.disabled = true;
    f.submit.textContent = t("posting");
    f.status.textContent = "";
    try {
      const { status: code, data } = await api("POST", "/api/v1/comments", { body: payload });
      store.set("engagement.author", { name: payload.author.name, email: payload.author.email || "" });
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

  function keepToken(data, text) {
    if (!data.edit_token) return;
    const c = data.comment;
    // The server counts the window from the comment's creation, a moment before this.
    const until = Date.now() + (state.site?.edit_window_seconds ?? 900) * 1000;
    tokens.put(c.id, { token: data.edit_token, expires: until, body: text });
  }

  /* ---------- one comment ---------- */

  const isDeleted = (c) => Boolean(c.deleted || c.status === "deleted");
  const nameOf = (c) => (isDeleted(c) ? t("anonymous") : c.author?.name || t("anonymous"));

  function avatar(c) {
    const name = isDeleted(c) ? "" : nameOf(c);
    const letter = name ? [...name.trim()][0].toUpperCase() : "·";
    const el = h("span", { class: "eg-avatar", "aria-hidden": "true" }, letter);
    el.style.setProperty("--eg-hue", String(hue(name))); // CSSOM, not a style attribute: CSP allows it
    return el;
  }

  function anchorBlock(c) {
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

  function votes(c) {
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
  function renderComment(c, depth, { context = null, flat = false, withIds = true } = {}) {
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

  function appendReplies(ol, replies, depth, parent, flattened, withIds) {
    for (const r of replies || []) {
      const atCap = depth >= MAX_DEPTH - 1;
      // The real parent (the API may flatten very deep replies itself), else the one above.
      const context = flattened ? state.index.get(r.parent)?.c || parent : null;
      ol.append(renderComment(r, depth, { context, flat: atCap, withIds }));
      if (atCap) appendReplies(ol, r.replies, depth, r, true, withIds);
    }
  }

  function actions(c, replyable) {
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

  function openReport(c, bar, opener) {
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

  /* ---------- reply, edit, delete ---------- */

  function openReply(c, bar) {
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

  function addReply(parent, reply) {
    parent.replies = [...(parent.replies || []), reply];
    parent.reply_count = (parent.reply_count || 0) + 1;
    state.page.comments = (state.page.comments || 0) + 1;
    const entry = state.index.get(parent.id);
    const top = entry ? entry.root : parent;
    state.index.set(reply.id, { c: reply, root: top });
    rerenderThread(top);
    if (top.anchor?.passage) bumpPassage(top.anchor.passage, 1);
    renderHeading();
    focusComment(reply.id);
    live?.seen();
  }

  function focusComment(id, scope = els.thread) {
    const card = scope.querySelector(`[data-id="${id}"] > .eg-card`);
    if (!card) return;
    card.classList.add("eg-new");
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest", behavior: reduceMotion() ? "auto" : "smooth" });
    return card;
  }

  /** Draw a top-level comment again from its data (``old``: a copy of it, else the thread's); ``keepCards``
   * moves the cards already drawn into the new tree, so a reply being written, an edit or a question stays. */
  function rerenderThread(top, keepCards = false, old = els.thread.querySelector(`:scope > [data-id="${top.id}"]`)) {
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
  async function showMoreReplies(top, button) {
    const li = button.parentElement;
    const main = Boolean(li.id);
    // Disabling drops the focus; unless the reader went elsewhere, it goes to the first new reply.
    const lost = () => !root.contains(document.activeElement) || document.activeElement === button;
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

  function openEdit(c, bar) {
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

  function askDelete(c, bar) {
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

  async function doDelete(c, mine, question) {
    if (!mine) return announce(t("windowClosed"), true);
    try {
      await api("DELETE", `/api/v1/comments/${c.id}`, { token: mine.token });
      tokens.drop(c.id);
      state.page.comments = Math.max(0, (state.page.comments || 0) - 1);
      removeComment(c);
      renderHeading();
      announce(t("removed"));
      els.heading.focus();
    } catch (err) {
      question.querySelector("span").textContent = err.status === 403 ? t("windowClosed") : errorText(err);
    }
  }

  /** Drop a deleted comment, or keep it as a placeholder when replies hang from it. */
  function removeComment(c) {
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

  function replaceEverywhere(c) {
    const entry = state.index.get(c.id);
    if (entry) rerenderThread(entry.root);
    for (const el of document.querySelectorAll(`.eg-comment[data-id="${c.id}"]:not([id])`)) {
      el.replaceWith(renderComment(c, Number(el.dataset.depth) || 0, { withIds: false }));
    }
  }

  /* ---------- the thread ---------- */

  function renderHeading() {
    const n = state.page.comments || 0;
    els.heading.textContent = t("commentsHeading", { n });
    els.tabAllCount.textContent = String(n);
  }

  function renderThread() {
    if (!state.comments.length) {
      els.thread.replaceChildren();
      els.empty.hidden = false;
    } else {
      els.empty.hidden = true;
      els.thread.replaceChildren(...state.comments.map((c) => renderComment(c, 0)));
    }
    els.more.hidden = !state.cursor;
  }

  async function fetchPage(cursor) {
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

  async function loadThread() {
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

  async function loadMore(all) {
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
  async function showLinked() {
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

  function addTopLevel(c) {
    state.index.set(c.id, { c, root: c });
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
    live?.seen();
  }

  /** A comment the live thread announced: drawn in its conversation (its top-level comment fetched with
   * every reply up to it), or on top when it is one; marked and focused. */
  async function showLive(id) {
    const { data } = await api("GET", `/api/v1/comments/${id}/context`, { query: { site: SITE, page: state.pageKey } });
    const top = data.comment;
    if (state.index.has(id)) return;
    if (top.id === id) addTopLevel(top);
    else {
      const at = state.comments.findIndex((c) => c.id === top.id);
      indexComments([top]);
      state.page.comments = (state.page.comments || 0) + 1;
      if (at < 0) {
        state.comments.unshift(top);
        els.empty.hidden = true;
        els.thread.prepend(renderComment(top, 0));
      } else {
        state.comments[at] = top;
        rerenderThread(top);
      }
      renderHeading();
    }
    focusComment(id);
  }

  /** The ids of the newest comments and their replies, for polling when no stream is allowed. */
  async function latestIds() {
    const { data } = await api("GET", "/api/v1/comments", { query: { site: SITE, page: state.pageKey, sort: "newest", limit: 20 } });
    const ids = [];
    const walk = (list) => list.forEach((c) => (ids.push(c.id), walk(c.replies || [])));
    walk(data.comments || []);
    return ids.reverse();
  }

  /* ---------- tabs ---------- */

  function selectTab(name, focus) {
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

  function tabKeys(ev) {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(ev.key)) return;
    ev.preventDefault();
    const next = ev.key === "Home" ? "all" : ev.key === "End" ? "inline" : state.tab === "all" ? "inline" : "all";
    selectTab(next, true);
  }

  /* ---------- inline feedback: the tab ---------- */

  async function loadInline() {
    els.inlineStatus.hidden = false;
    els.inlineStatus.textContent = t("loading");
    try {
      const found = [];
      let cursor = null;
      do {
        // passage "*" asks for every anchored comment (anchors sit on top-level comments only)
        const { data } = await api("GET", "/api/v1/comments", {
          query: { site: SITE, page: state.pageKey, sort: "oldest", passage: "*", limit: 100, cursor },
        });
        found.push(...(data.comments || []).filter((c) => c.anchor));
        cursor = data.next_cursor;
      } while (cursor);
      state.inline = found;
      els.inlineStatus.hidden = true;
      renderInlineTab();
    } catch (err) {
      els.inlineStatus.textContent = `${t("loadFailed")} ${errorText(err)}`;
    }
  }

  function renderInlineTab() {
    if (state.inline === null) return;
    els.tabInlineCount.textContent = String(state.inline.length);
    els.tabInlineCount.hidden = false;
    els.inlineEmpty.hidden = state.inline.length > 0;
    els.inlineList.replaceChildren(...state.inline.map((c) => renderComment(c, 0, { withIds: false })));
  }

  function addInline(c) {
    if (state.inline && !state.inline.some((x) => x.id === c.id)) {
      state.inline.push(c);
      renderInlineTab();
    }
    if (c.anchor?.passage) bumpPassage(c.anchor.passage, 1);
  }

  /* ---------- inline feedback: passages in the article ---------- */

  const passageSelector = (id) => `[data-engagement-passage="${CSS.escape(id)}"]`;

  /** The badges' numbers: published comments per marked passage, replies included. */
  async function loadPassageCounts() {
    if (!document.querySelector("[data-engagement-passage]")) return;
    try {
      const { data } = await api("GET", "/api/v1/passages", { query: { site: SITE, page: state.pageKey } });
      state.passages = data.passages || {};
      renderBadges();
    } catch {
      /* the badges stay, without numbers */
    }
  }

  function bumpPassage(id, by) {
    state.passages[id] = Math.max(0, (state.passages[id] || 0) + by);
    renderBadges();
  }

  function renderBadges() {
    for (const passage of document.querySelectorAll("[data-engagement-passage]")) {
      const id = passage.dataset.engagementPassage;
      let badge = passage.querySelector(`:scope > .eg-badge`);
      if (!badge) {
        badge = h("button", { type: "button", class: `${UI} eg-root eg-badge`, "aria-expanded": "false", "data-eg-theme": THEME, onclick: () => togglePassage(passage, badge) });
        passage.append(badge);
      }
      const n = state.passages[id] || 0;
      badge.classList.toggle("eg-badge-empty", n === 0);
      badge.setAttribute("aria-label", n ? t("passageBadge", { n }) : t("commentOnPassage"));
      badge.replaceChildren(svg(ICON_BUBBLE), h("span", {}, n ? String(n) : "+"));
    }
  }

  let openBox = null;

  function closeBox(restoreFocus) {
    if (!openBox) return;
    const { box, opener } = openBox;
    openBox = null;
    box.remove();
    opener?.setAttribute?.("aria-expanded", "false");
    if (restoreFocus && opener?.isConnected) opener.focus();
  }

  function togglePassage(passage, badge) {
    if (openBox?.opener === badge) return closeBox(true);
    const id = passage.dataset.engagementPassage;
    openPassageBox(passage, { passage: id }, badge);
  }

  /** The comment box under a passage: what others said of it, and a form that anchors to it. */
  function openPassageBox(after, anchor, opener) {
    closeBox(false);
    const list = h("ol", { class: "eg-box-list" });
    const quote = quoteOf(anchor);
    const box = h(
      "div",
      { class: `${UI} eg-root eg-box`, role: "region", "aria-label": t("passageBox"), "data-eg-theme": THEME },
      h(
        "div",
        { class: "eg-box-head" },
        h("strong", {}, t("passageBox")),
        h("button", { type: "button", class: "eg-close", "aria-label": t("close"), onclick: () => closeBox(true) }, "×"),
      ),
      quote && h("blockquote", { class: "eg-quote" }, quote.exact),
      list,
    );
    const form = commentForm({
      anchor,
      label: t("commentOnPassage"),
      placeholder: t("passagePlaceholder"),
      onCancel: () => closeBox(true),
      onPosted: (c) => {
        list.append(renderComment(c, 0, { withIds: false }));
        addTopLevel(c);
      },
    });
    box.append(
      form,
      h("button", { type: "button", class: "eg-link eg-viewall", onclick: () => viewAll() }, t("viewAll")),
    );
    box.addEventListener("keydown", (ev) => ev.key === "Escape" && closeBox(true));
    after.after(box);
    opener?.setAttribute?.("aria-expanded", "true");
    openBox = { box, opener };
    form.focusFirst();
    if (anchor.passage && !quote) fillPassageList(list, anchor.passage);
  }

  async function fillPassageList(list, passage) {
    try {
      const { data } = await api("GET", "/api/v1/comments", {
        query: { site: SITE, page: state.pageKey, passage, sort: "oldest", limit: 50 },
      });
      list.replaceChildren(...(data.comments || []).map((c) => renderComment(c, 0, { withIds: false })));
    } catch (err) {
      list.replaceChildren(h("li", { class: "eg-muted" }, errorText(err)));
    }
  }

  function viewAll() {
    closeBox(false);
    selectTab("all");
    root.scrollIntoView({ block: "start", behavior: reduceMotion() ? "auto" : "smooth" });
    els.heading.focus({ preventScroll: true });
  }

  /* ---------- inline feedback: text selection and quotes ---------- */

  /** The article's visible text, whitespace collapsed, with each character's node and offset. */
  function textIndex(rootEl) {
    const walker = document.createTreeWalker(rootEl, NodeFilter.SHOW_TEXT, {
      acceptNode: (n) =>
        n.parentElement?.closest(`.${UI},script,style,noscript,template`)
          ? NodeFilter.FILTER_REJECT
          : NodeFilter.FILTER_ACCEPT,
    });
    const chars = [];
    const nodes = [];
    const offsets = [];
    let space = true;
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const data = n.data;
      for (let i = 0; i < data.length; i++) {
        const ws = /\s/.test(data[i]);
        if (ws && space) continue;
        chars.push(ws ? " " : data[i]);
        nodes.push(n);
        offsets.push(i);
        space = ws;
      }
    }
    return { text: chars.join(""), nodes, offsets };
  }

  /** The index of the first character at or after a boundary point (binary search in document order). */
  function positionOf(idx, container, offset) {
    const point = document.createRange();
    point.setStart(container, offset);
    let lo = 0;
    let hi = idx.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (point.comparePoint(idx.nodes[mid], idx.offsets[mid]) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  const squash = (s) => (s || "").replace(/\s+/g, " ");

  function anchorFromRange(range) {
    if (!article || !article.contains(range.commonAncestorContainer)) return null;
    const idx = textIndex(article);
    let start = positionOf(idx, range.startContainer, range.startOffset);
    let end = positionOf(idx, range.endContainer, range.endOffset);
    while (start < end && idx.text[start] === " ") start++;
    while (end > start && idx.text[end - 1] === " ") end--;
    if (end - start < 2) return null;
    end = Math.min(end, start + MAX_QUOTE);
    const quote = {
      exact: idx.text.slice(start, end),
      prefix: idx.text.slice(Math.max(0, start - CONTEXT), start),
      suffix: idx.text.slice(end, end + CONTEXT),
    };
    const node = range.commonAncestorContainer;
    const passage = (node.nodeType === 1 ? node : node.parentElement).closest("[data-engagement-passage]");
    const anchor = { quote };
    if (passage && article.contains(passage)) anchor.passage = passage.dataset.engagementPassage;
    return anchor;
  }

  /** Where a quote is in the text: the occurrence whose neighbours best match prefix and suffix. */
  function findQuote(text, quote) {
    const exact = squash(quote.exact).trim();
    if (!exact) return -1;
    const prefix = squash(quote.prefix);
    const suffix = squash(quote.suffix);
    let best = -1;
    let bestScore = -1;
    for (let at = text.indexOf(exact); at !== -1; at = text.indexOf(exact, at + 1)) {
      let score = 0;
      while (score < prefix.length && text[at - 1 - score] === prefix[prefix.length - 1 - score]) score++;
      for (let i = 0; i < suffix.length && text[at + exact.length + i] === suffix[i]; i++) score++;
      if (score > bestScore) [best, bestScore] = [at, score];
    }
    return best;
  }

  function clearHighlights() {
    for (const mark of document.querySelectorAll("mark.eg-mark")) {
      const parent = mark.parentNode;
      mark.replaceWith(...mark.childNodes);
      parent.normalize();
    }
    for (const el of document.querySelectorAll(".eg-highlight")) el.classList.remove("eg-highlight");
  }

  function wrapQuote(scope, quote) {
    const idx = textIndex(scope);
    const at = findQuote(idx.text, quote);
    if (at < 0) return null;
    const last = at + squash(quote.exact).trim().length - 1;
    const range = document.createRange();
    range.setStart(idx.nodes[at], idx.offsets[at]);
    range.setEnd(idx.nodes[last], idx.offsets[last] + 1);
    const pieces = [...new Set(idx.nodes.slice(at, last + 1))].map((node) => [
      node,
      node === range.startContainer ? range.startOffset : 0,
      node === range.endContainer ? range.endOffset : node.length,
    ]);
    const marks = [];
    for (const [node, from, to] of pieces) {
      if (!node.data.slice(from, to).trim()) continue; // whitespace between blocks stays unwrapped
      node.splitText(to);
      const part = from > 0 ? node.splitText(from) : node;
      const mark = h("mark", { class: `${UI}-mark eg-mark` });
      part.replaceWith(mark);
      mark.append(part);
      marks.push(mark);
    }
    return marks[0] || null;
  }

  /** Highlight an anchor's passage (by its id, or by finding the quoted text) and scroll to it. */
  function showInArticle(anchor) {
    clearHighlights();
    const quote = quoteOf(anchor);
    const passage = anchor.passage ? document.querySelector(passageSelector(anchor.passage)) : null;
    let target = null;
    if (quote) target = wrapQuote(passage || article || document.body, quote);
    if (!target && quote && passage) target = wrapQuote(article || document.body, quote);
    if (!target && passage) {
      passage.classList.add("eg-highlight");
      target = passage;
    }
    if (!target) return announce(t("passageMissing"), true);
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.scrollIntoView({ block: "center", behavior: reduceMotion() ? "auto" : "smooth" });
    target.focus({ preventScroll: true });
    announce(t("highlighted"));
  }

  /* ---------- the floating "Comment on this passage" button ---------- */

  let floating = null;
  let pending = null;
  let selectTimer = 0;
  let pointerDown = false;

  function setupSelection() {
    floating = h(
      "button",
      { type: "button", class: `${UI} eg-root eg-float`, hidden: true, "data-eg-theme": THEME },
      svg(ICON_BUBBLE),
      h("span", {}, t("commentOnPassage")),
    );
    // Keep the selection alive while the button is pressed.
    floating.addEventListener("mousedown", (ev) => ev.preventDefault());
    floating.addEventListener("click", () => {
      const { anchor, range } = pending || {};
      floating.hidden = true;
      if (!anchor) return;
      const block = blockOf(range.endContainer);
      window.getSelection()?.removeAllRanges();
      openPassageBox(block, anchor, null);
    });
    document.body.append(floating);
    document.addEventListener("pointerdown", (ev) => {
      pointerDown = !floating.contains(ev.target);
    });
    document.addEventListener("pointerup", () => {
      pointerDown = false;
      queueSelection(10);
    });
    document.addEventListener("selectionchange", () => queueSelection(pointerDown ? 9999 : 250));
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !floating.hidden) floating.hidden = true;
    });
  }

  function queueSelection(delay) {
    clearTimeout(selectTimer);
    if (delay < 9999) selectTimer = setTimeout(checkSelection, delay);
  }

  function blockOf(node) {
    const el = node.nodeType === 1 ? node : node.parentElement;
    const passage = el.closest("[data-engagement-passage]");
    if (passage) return passage;
    const block = el.closest("p,li,blockquote,pre,h1,h2,h3,h4,h5,h6,figure,table,div,section");
    return block && article.contains(block) && block !== article ? block : el;
  }

  function checkSelection() {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) {
      floating.hidden = true;
      return;
    }
    const range = sel.getRangeAt(0);
    const anchor = anchorFromRange(range);
    if (!anchor || floating.contains(range.commonAncestorContainer)) {
      floating.hidden = true;
      return;
    }
    pending = { anchor, range: range.cloneRange() };
    floating.hidden = false;
    const rect = range.getBoundingClientRect();
    const origin = (floating.offsetParent || document.body).getBoundingClientRect();
    const width = floating.offsetWidth;
    const left = Math.min(Math.max(rect.left + rect.width / 2 - width / 2, 8), window.innerWidth - width - 8);
    const above = rect.top - floating.offsetHeight - 10;
    const top = above > 4 ? above : rect.bottom + 10;
    floating.style.left = `${left - origin.left}px`;
    floating.style.top = `${top - origin.top}px`;
  }

  /* ---------- subscribing with an e-mail alone (the bell) ---------- */

  function subscribePanel() {
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

  async function subscribe({ email, kind, status, submit }) {
    status.classList.remove("eg-error");
    status.textContent = "";
    if (!email.value.trim() || !email.validity.valid) {
      status.classList.add("eg-error");
      status.textContent = t("badEmail");
      return email.focus();
    }
    const body = { site: SITE, email: email.value.trim(), kind: kind.value === "thread" ? "thread" : "digest" };
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

  /* ---------- the skeleton ---------- */

  function build() {
    const ids = { heading: nextId(), reactions: nextId() };
    els.live = h("div", { class: "eg-sr", "aria-live": "polite", role: "status" });
    els.toast = h("div", { class: "eg-toast", hidden: true, "aria-hidden": "true" });
    els.responses = h("p", { class: "eg-muted eg-responses" });
    els.reactionList = h("div", { class: "eg-reactions", role: "group", "aria-labelledby": ids.reactions });
    els.reactionStatus = h("p", { class: "eg-status", "aria-live": "polite" });
    els.support = h("aside", { class: "eg-support", hidden: true });
    els.heading = h("h2", { class: "eg-h2", id: ids.heading, tabindex: "-1" }, t("noComments"));
    const bell = subscribePanel();
    const mainForm = commentForm({ onPosted: (c) => { addTopLevel(c); focusComment(c.id); } });
    const { tablist, sort } = buildTabs(ids.heading);
    root.replaceChildren(
      h(
        "section",
        { class: "eg-root eg-widget", "aria-labelledby": ids.heading, "data-eg-theme": THEME },
        h("div", { class: "eg-react" }, h("h2", { class: "eg-h2", id: ids.reactions }, t("reactionsHeading")), els.responses, els.reactionList, els.reactionStatus),
        els.support,
        h("h3", { class: "eg-h3" }, t("formHeading")),
        mainForm,
        h("div", { class: "eg-toolbar" }, els.heading, bell.toggle),
        bell.form,
        h("div", { class: "eg-tabsrow" }, tablist, sort),
        els.panelAll,
        els.panelInline,
        els.live,
        els.toast,
      ),
    );
  }

  /** The two tabs (the thread, the inline feedback), their panels, and the sort choice. */
  function buildTabs(headingId) {
    const ids = { tabAll: nextId(), tabInline: nextId(), panelAll: nextId(), panelInline: nextId() };
    els.sort = h(
      "select",
      { id: nextId(), onchange: (ev) => { state.sort = ev.target.value; loadThread(); } },
      h("option", { value: "newest" }, t("sortNewest")),
      h("option", { value: "oldest" }, t("sortOldest")),
      h("option", { value: "top" }, t("sortTop")),
    );
    els.sort.value = state.sort;
    els.tabAllCount = h("span", { class: "eg-pill" }, "0");
    els.tabInlineCount = h("span", { class: "eg-pill", hidden: true });
    els.tabAll = h("button", { type: "button", role: "tab", id: ids.tabAll, "aria-controls": ids.panelAll, "aria-selected": "true", onclick: () => selectTab("all"), onkeydown: tabKeys }, t("tabAll"), " ", els.tabAllCount);
    els.tabInline = h("button", { type: "button", role: "tab", id: ids.tabInline, "aria-controls": ids.panelInline, "aria-selected": "false", tabindex: "-1", onclick: () => selectTab("inline"), onkeydown: tabKeys }, t("tabInline"), " ", els.tabInlineCount);
    els.threadStatus = h("p", { class: "eg-muted eg-loading" }, t("loading"));
    els.retry = h("button", { type: "button", class: "eg-btn", hidden: true, onclick: () => loadThread() }, t("retry"));
    els.thread = h("ol", { class: "eg-thread" });
    els.empty = h("p", { class: "eg-empty", hidden: true }, t("empty"));
    els.more = h(
      "div",
      { class: "eg-more", hidden: true },
      h("button", { type: "button", class: "eg-btn", onclick: () => loadMore(false) }, t("loadMore")),
      h("button", { type: "button", class: "eg-btn eg-ghost", onclick: () => loadMore(true) }, t("viewAll")),
    );
    els.panelAll = h("div", { role: "tabpanel", id: ids.panelAll, "aria-labelledby": ids.tabAll }, els.threadStatus, els.retry, els.thread, els.empty, els.more);
    els.inlineStatus = h("p", { class: "eg-muted", hidden: true });
    els.inlineEmpty = h("p", { class: "eg-empty", hidden: true }, t("inlineEmpty"));
    els.inlineList = h("ol", { class: "eg-inline-list" });
    els.panelInline = h("div", { role: "tabpanel", id: ids.panelInline, "aria-labelledby": ids.tabInline, hidden: true }, els.inlineStatus, els.inlineEmpty, els.inlineList);
    return {
      tablist: h("div", { role: "tablist", class: "eg-tabs", "aria-labelledby": headingId }, els.tabAll, els.tabInline),
      sort: h("div", { class: "eg-sort" }, h("label", { for: els.sort.id }, t("sortLabel")), els.sort),
    };
  }

  function renderSupport() {
    const support = state.site?.support;
    if (!support?.text) return;
    const text = /^https?:\/\//i.test(support.url || "")
      ? h("a", { href: support.url, target: "_blank", rel: "noopener" }, support.text)
      : h("span", {}, support.text);
    els.support.replaceChildren(svg(ICON_HEART), text);
    els.support.hidden = false;
  }

  /* ---------- start ---------- */

  function pageKey() {
    const explicit = root.dataset.pageId || script.dataset.pageId;
    if (explicit) return explicit;
    const url = new URL(location.href);
    url.hash = "";
    return url.href;
  }

  async function start() {
    root = document.getElementById(script.dataset.container || "engagement-thread");
    if (!root) return;
    S = { ...STRINGS, ...(window.EngagementStrings || {}), ...parseJSON(script.dataset.strings), ...parseJSON(root.dataset.strings) };
    READER = readerId();
    THEME = ["light", "dark"].includes(root.dataset.theme) ? root.dataset.theme : null;
    state.pageKey = pageKey();
    state.pageTitle = root.dataset.pageTitle || document.title || "";
    state.sort = ["newest", "oldest", "top"].includes(root.dataset.sort) ? root.dataset.sort : "newest";
    state.limit = Math.min(Math.max(Number(root.dataset.limit) || 20, 1), 100);
    article = document.querySelector("[data-engagement-article]");
    // Ask for the site while the stylesheet loads; build once it is there (no unstyled flash).
    const site = api("GET", `/api/v1/sites/${encodeURIComponent(SITE)}`);
    site.catch(() => {});
    await loadStyle();
    build();
    if (article) setupSelection();
    renderBadges();
    try {
      state.site = (await site).data;
      renderSupport();
      renderReactions();
    } catch (err) {
      els.reactionStatus.textContent = errorText(err);
    }
    await Promise.all([loadThread(), loadPassageCounts()]);
    if (state.inline === null) loadInline(); // the tab shows its count before it is opened
    await showLinked();
    window.addEventListener("hashchange", showLinked);
    live = liveThread({
      base: BASE,
      site: SITE,
      page: () => state.pageKey,
      known: (id) => state.index.has(id),
      show: showLive,
      counts: (reactions) => ((state.page.reactions = reactions), renderReactions()),
      reload: loadThread,
      latest: latestIds,
      t,
      pollMs: Math.max(Number(root.dataset.pollSeconds) || 60, 5) * 1000,
    });
    els.thread.before(live.button);
    live.start();
    window.EngagementWidget.ready = true;
    root.setAttribute("data-engagement-ready", "true"); // for CSS, and for tests under a strict CSP
    root.dispatchEvent(new CustomEvent("engagement:ready", { bubbles: true }));
  }

  /* ---------- style ---------- */

  /** Load widget.css from beside the script (a <link>, so a strict style-src CSP can allow it). */
  function loadStyle() {
    if (script.dataset.style === "none" || document.getElementById("engagement-style")) return Promise.resolve();
    return new Promise((resolve) => {
      const link = h("link", { id: "engagement-style", rel: "stylesheet", href: `${BASE}/static/widget.css` });
      link.addEventListener("load", resolve);
      link.addEventListener("error", resolve); // unstyled beats absent
      document.head.append(link);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
  else start();
})();
