// Who the reader is beyond their browser's random id: a feature (sign-in) fills these in; the
// forms, the comments, the edit tokens and `api()` ask them. Alone, everyone is a guest.

export const identity = {
  /** True while a site's sign-in stands for the reader: forms send no name or e-mail. */
  signedIn: () => false,
  /** Marks a form's name or e-mail field (hidden while signed in); returns it. */
  field: (el) => el,
  /** A line for the comment form ("Signed in as …", "Sign in"), or null. */
  line: () => null,
  /** A mark for a comment's header (its author was signed in), or null. */
  mark: () => null,
  /** An edit entry ({token, expires, body}) for comment ``id`` that needs no stored edit token, or null. */
  entryFor: () => null,
  /** After a refused answer: true to send the request again (the feature dropped what was refused). */
  retry: () => false,
};
