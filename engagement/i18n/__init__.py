"""Languages: the shipped locales, their gettext catalogs, and dates and numbers in each (Babel)."""
