"""audit API routes (filled by the audit work)."""
