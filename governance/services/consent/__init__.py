"""Consent (next issue): purposes with lawful bases, privacy notices, the consent ledger and
receipts, and the purpose check the governed pipeline calls.
"""
