"""Console pages: admin_pages."""
