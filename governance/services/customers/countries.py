"""ISO 3166-1 alpha-2 country codes and ISO 4217 currency codes, from ``pycountry``."""

from __future__ import annotations

import pycountry

ISO_3166_ALPHA2: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries)
ISO_3166_2: frozenset[str] = frozenset(s.code for s in pycountry.subdivisions)
ISO_4217: frozenset[str] = frozenset(c.alpha_3 for c in pycountry.currencies)
