// The widget's words: the English table, `t` to look one up, and the layers over it (a language, the publisher's).

import { formatNumber, pluralText } from "./plurals.js";

export const STRINGS = {
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
  support: "Support us",
  supportCall: "Help us grow. Support {site} on Patreon!",
  popularHeading: "More discussions",
  popularComments: "{n} comment|{n} comments",
};

// The table in use: the base (English, or a language defined over it), then the publisher's layers.
export const base = { ...STRINGS };
let layers = [];
let S = base;

/** Replaces or adds words under the publisher's layers: a language's table, a feature's new keys. */
export const defineStrings = (table) => {
  Object.assign(base, table);
  S = Object.assign({}, base, ...layers);
};

/** The publisher's layers, later ones winning (window.EngagementStrings, data-strings): set at start. */
export const setStrings = (...overrides) => {
  layers = overrides.filter(Boolean);
  S = Object.assign({}, base, ...layers);
};

/** The BCP 47 tag of the language shown (features/i18n.js defines it with the language's table). */
export const locale = () => String(S.locale || "en");

export const t = (key, vars = {}) => {
  const s = pluralText(S[key] ?? base[key] ?? key, vars.n, locale());
  const shown = { ...vars, n: formatNumber(vars.n, locale()) };
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(shown[k]) : m));
};
