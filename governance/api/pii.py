"""pii API routes (filled by the pii work)."""
