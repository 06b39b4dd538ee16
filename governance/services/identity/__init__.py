"""Identity: people, service accounts and tokens, and policy administration."""
