"""Webhooks from the outbox: endpoints, planning in the relay's transaction, signed sends with retries."""
