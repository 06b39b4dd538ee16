"""Customers: the store, governed reads, validation and normalisation, listing, imports,
quality, merge and demo data.
"""
