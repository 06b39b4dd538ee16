"""Console pages: pii_pages."""
