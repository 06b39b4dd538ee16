"""Data-subject requests (later issue): access, rectification, portability, erasure,
restriction and objection on legal clocks, exports and erasure certificates.
"""
