/* The live thread: the page's Server-Sent Events stream (GET /api/v1/stream).
 *
 * New comments wait behind an "N new comments" button and are drawn when it is clicked (the widget
 * draws each under its parent); a comment withdrawn (deleted, removed by a moderator) leaves at once,
 * as do changed reaction tallies. The stream reconnects with backoff,
 * resuming after the last event it saw; it is closed while the tab is hidden. When the server refuses
 * it (503: its cap; 404: a page nobody engaged with yet) the widget polls every minute instead.
 */

const BACKOFF_FIRST = 1000;
const BACKOFF_MAX = 60000;
const SETTLE_MS = 400;

/**
 * @param {object} o
 * @param {string} o.base the server's origin
 * @param {string} o.site
 * @param {() => string} o.page the page's key
 * @param {(id: number) => boolean} o.known whether the thread already shows a comment
 * @param {(id: number) => Promise<void>} o.show draws a new comment where it belongs
 * @param {(id: number) => void} o.removed drops a comment withdrawn from the page
 * @param {(reactions: object) => void} o.counts new reaction tallies
 * @param {() => void} o.reload draws the thread again (more was missed than a stream replays)
 * @param {() => Promise<number[]>} o.latest ids of the newest comments, for polling
 * @param {(key: string, vars?: object) => string} o.t
 * @param {number} o.pollMs
 */
export function liveThread(o) {
  let source = null;
  let last = "";
  let pending = [];
  let missedMore = false;
  let delay = BACKOFF_FIRST;
  let timer = 0;
  let polling = false;

  const button = document.createElement("button");
  button.type = "button";
  button.className = "eg-btn eg-live";
  button.hidden = true;
  button.addEventListener("click", async () => {
    const ids = pending.splice(0);
    const reload = missedMore;
    missedMore = false;
    render();
    if (reload) return o.reload();
    for (const id of ids) if (!o.known(id)) await o.show(id).catch(() => {});
  });

  function render() {
    pending = pending.filter((id) => !o.known(id));
    button.hidden = !pending.length && !missedMore;
    button.textContent = missedMore ? o.t("liveMissed") : o.t("liveNew", { n: pending.length });
  }

  // A comment event may come before the answer to the reader's own post: the button waits a moment,
  // so their comment is drawn (and known) first and never announced to them.
  let settle = 0;
  function note(id) {
    if (!o.known(id) && !pending.includes(id)) pending.push(id);
    clearTimeout(settle);
    settle = setTimeout(render, SETTLE_MS);
  }

  function url() {
    const u = new URL(`${o.base}/api/v1/stream`);
    u.searchParams.set("site", o.site);
    u.searchParams.set("page", o.page());
    if (last) u.searchParams.set("last", last);
    return u;
  }

  function open() {
    clearTimeout(timer);
    if (source || document.hidden) return;
    polling = false;
    source = new EventSource(url());
    source.onopen = () => (delay = BACKOFF_FIRST);
    const on = (name, handle) =>
      source.addEventListener(name, (ev) => {
        if (ev.lastEventId) last = ev.lastEventId;
        handle(JSON.parse(ev.data || "{}"));
      });
    on("comment", (data) => note(Number(data.id)));
    on("removed", (data) => {
      const id = Number(data.id);
      pending = pending.filter((one) => one !== id);
      render();
      o.removed(id);
    });
    on("counts", (data) => o.counts(data.reactions || {}));
    on("reset", () => {
      missedMore = true;
      render();
    });
    // The browser would reconnect at once and without end; we choose when, and whether to poll.
    source.onerror = () => {
      close();
      probe();
    };
  }

  function close() {
    source?.close();
    source = null;
    clearTimeout(timer);
  }

  /** Why the stream failed: refused (poll), or a passing fault (reconnect with backoff). */
  async function probe() {
    const ctl = new AbortController();
    let status = 0;
    try {
      status = (await fetch(url(), { credentials: "omit", signal: ctl.signal })).status;
      ctl.abort();
    } catch {
      /* offline: back off */
    }
    if (status === 503 || status === 404) return schedulePoll();
    timer = setTimeout(open, delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, BACKOFF_MAX);
  }

  function schedulePoll() {
    polling = true;
    clearTimeout(timer);
    if (!document.hidden) timer = setTimeout(poll, o.pollMs);
  }

  async function poll() {
    try {
      for (const id of await o.latest()) note(id);
    } catch {
      /* the next round tries again */
    }
    open(); // the stream again: refused, it comes back here a minute later
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) close();
    else if (polling) poll();
    else open();
  });

  return {
    button,
    start: open,
    /** The thread changed (the reader's own comment drawn, say): forget what it now shows. */
    refresh: render,
  };
}
