"""Breach response (later issue): incidents on legal clocks, affected-subject analysis,
containment and notices.
"""
