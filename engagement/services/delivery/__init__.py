"""Mail's way out: recipients, windows, deliveries, composing, sending, digests, bounces, retention."""
