// Plural forms and numbers for `t` (strings.js): pure functions, no state.

/**
 * A string's text for the count n: a translated plural carries one text per CLDR category
 * ({one, few, many, other}), chosen by Intl.PluralRules; the bundle's English is "one|many".
 */
export function pluralText(value, n, locale) {
  if (value && typeof value === "object") {
    let category = "other";
    try {
      category = new Intl.PluralRules(locale).select(Number(n));
    } catch {
      /* an old browser: "other" reads right for most counts */
    }
    return String(value[category] ?? value.other ?? Object.values(value).pop() ?? "");
  }
  const text = String(value);
  if (!text.includes("|") || !text.includes("{n}")) return text;
  return text.split("|")[n === 1 ? 0 : 1];
}

/** A count as the locale writes it (1,234 / 1.234 / ١٬٢٣٤). */
export function formatNumber(value, locale) {
  if (typeof value !== "number") return String(value);
  try {
    return new Intl.NumberFormat(locale).format(value);
  } catch {
    return String(value);
  }
}
