"""Reaching readers exactly once: who follows what, mail, Apprise channels, opt-outs."""
