"""identity API routes (filled by the identity work)."""
