"""Backups (later issue): encrypted snapshots with signed manifests, verification by restore,
restore with tombstone replay.
"""
