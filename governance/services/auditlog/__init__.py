"""The audit log on the server: queued appends, snapshots, queries and proofs, export,
verification and the checkpoint kept outside the database.
"""
