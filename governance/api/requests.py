"""Data-subject requests (filled in by the next commits)."""
