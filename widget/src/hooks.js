// Extension points for features: code run at start and once ready, sections after the thread.

const starts = [];
const readies = [];
export const sections = [];

/**
 * Runs ``fn({script, root, dataset})`` at start, before anything is drawn or asked of the server: the
 * publisher's strings, page and article are known (`dataset` is the script tag's). A promise it returns is
 * awaited, so keep it short: a language table to define (`defineStrings`), server-rendered markup to read.
 */
export const onStart = (fn) => starts.push(fn);

/** Runs ``fn({script, root, dataset})`` once the thread is drawn and loaded, before `engagement:ready`. */
export const onReady = (fn) => readies.push(fn);

/** Adds a section after the thread: ``render()`` returns its element (or null) when the widget is built. */
export const addSection = (render) => sections.push(render);

/** Runs the hooks in turn; a failing feature is logged and leaves the comments working. */
export async function runHooks(which, context) {
  for (const fn of which === "start" ? starts : readies) {
    try {
      await fn(context);
    } catch (err) {
      console.error("engagement:", err);
    }
  }
}
