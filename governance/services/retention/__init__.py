"""Retention (later issue): rules per data category, legal holds, plans and sweeps."""
