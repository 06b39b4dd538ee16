"""Keys: the vault of per-subject data keys, KEK rotation and re-wrapping."""
