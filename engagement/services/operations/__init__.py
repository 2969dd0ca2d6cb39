"""Bringing a site in and out, and watching it: imports, exports, backups, the metrics' scrape-time gauges."""
