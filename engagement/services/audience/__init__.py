"""Readers as an audience: subscriptions, preferences, supporters, sign-in identity, opt-outs and erasure."""
