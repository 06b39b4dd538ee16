"""keys API routes (filled by the keys work)."""
