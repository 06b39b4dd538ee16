"""Console pages: audit_pages."""
