"""The tamper-evident audit log as a library: RFC 9162 Merkle tree, proofs, signed checkpoints.

No Flask and no SQL here: the server stores entries and tree nodes through the small
``audit.store.NodeStore`` interface and calls these modules; auditors run ``python -m audit
verify EXPORT`` with nothing but this package and ``cryptography``.

Modules: ``hashing`` (leaf/node hashes, canonical JSON), ``entry`` (the leaf format), ``tree``
(reference root and the O(log n) ``Frontier``), ``store`` (node storage interface), ``proofs`` and
``proofcheck`` (RFC 9162 proofs and their verification), ``checkpoint`` (Ed25519 signed tree
heads), ``verify`` (full log verification), ``export`` (the offline export file), ``cli``,
``errors`` (``AuditError``, the root of every error raised here).
"""
