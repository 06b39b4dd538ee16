"""The purpose check of the governed read pipeline (``services/customers/reads.py``).

The pipeline calls ``require_lawful_basis`` once per read, with every subject the read would
return, before any data key is unwrapped: a refusal here means no value was ever decrypted.
"""

from __future__ import annotations

from collections.abc import Sequence

from governance.context import Call


def require_lawful_basis(call: Call, subject_ids: Sequence[str]) -> None:
    """Refuse the read unless ``call.purpose`` has a lawful basis for every subject.

    Allows everything today. The consent issue fills it: the purpose must be declared and its
    roles must include the caller's, and per subject there must be consent or another lawful
    basis recorded in ``policies/purposes.yaml``, with no objection or hold (lists filter those
    subjects out in SQL instead, so pages are never short). System purposes are allowed for
    internal reads.
    """
    return None
