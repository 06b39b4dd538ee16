"""pii commands."""
