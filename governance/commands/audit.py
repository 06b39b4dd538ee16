"""audit commands."""
