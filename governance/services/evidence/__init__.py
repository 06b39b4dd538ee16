"""Evidence: the data behind PDFs and downloads (inventory, audit trail, PII discovery)."""
