"""PII: the detection engine (``detection``), store scans, sources, findings and their review."""
