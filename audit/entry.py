"""One audit log entry and its leaf encoding (the bytes hashed into the RFC 9162 tree).

The leaf of an entry is the canonical JSON (see ``audit.hashing``) of a flat object with exactly
these keys, shown here in the order canonical JSON sorts them:

=============  ==============================================================================
``action``     dotted lowercase verb, e.g. ``customer.read``, ``auth.login``
``actor_id``   user or service-account id, or null (system, anonymous)
``actor_role`` the role the actor acted in, or null
``actor_type`` ``user`` | ``service`` | ``system`` | ``anonymous``
``client``     client address, or null
``details``    object with further facts (field names, counts, ids; never personal values)
``outcome``    ``allowed`` | ``denied`` | ``failed``
``purpose``    declared purpose of the access, or null
``request_id`` request id, or null
``resource``   target resource type or path, or null
``seq``        v1 leaves only: sequence number, 1-based and gapless; the leaf index is ``seq - 1``
``subject_id`` data subject id the action concerned, or null
``timestamp``  RFC 3339 UTC with microseconds and ``Z``, e.g. ``2024-05-01T12:34:56.000000Z``
=============  ==============================================================================

Entries carry ids and field names, never the personal values themselves.

Two leaf versions exist. **v1** leaves (written until queued appends) contain ``seq``. **v2**
leaves have every key above except ``seq``: a writer hashes its entry before the sequence number
is known, and the entry's position in the tree is its sequence number, as RFC 9162's leaf index
is. The verifier accepts both; a v1 leaf's ``seq`` must still equal its position.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from audit.errors import AuditError
from audit.hashing import CanonicalJSONError, canonical_json, leaf_hash, parse_canonical_json
from audit.timefmt import check_timestamp

ActorType = Literal["user", "service", "system", "anonymous"]
Outcome = Literal["allowed", "denied", "failed"]

ACTOR_TYPES: frozenset[str] = frozenset({"user", "service", "system", "anonymous"})
OUTCOMES: frozenset[str] = frozenset({"allowed", "denied", "failed"})
LEAF_KEYS: tuple[str, ...] = (
    "action",
    "actor_id",
    "actor_role",
    "actor_type",
    "client",
    "details",
    "outcome",
    "purpose",
    "request_id",
    "resource",
    "seq",
    "subject_id",
    "timestamp",
)
_LEAF_KEY_SET = frozenset(LEAF_KEYS)
_LEAF_V2_KEY_SET = _LEAF_KEY_SET - {"seq"}
_OPTIONAL_TEXT = (
    "actor_id",
    "actor_role",
    "client",
    "purpose",
    "request_id",
    "resource",
    "subject_id",
)
_ACTION_RE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_MAX_TEXT = 1000


class EntryError(AuditError, ValueError):
    """An entry's fields, or a leaf's bytes, do not form a valid audit entry."""


@dataclass(frozen=True, kw_only=True, eq=True)
class Entry:
    """One audit log entry; ``leaf()`` is the exact byte string hashed into the tree."""

    timestamp: str
    actor_type: ActorType
    action: str
    outcome: Outcome
    actor_id: str | None = None
    actor_role: str | None = None
    resource: str | None = None
    subject_id: str | None = None
    purpose: str | None = None
    request_id: str | None = None
    client: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None
    """v1 only; None makes a v2 leaf (its sequence number is its position in the tree)."""

    def __post_init__(self) -> None:
        obj = self.to_dict()
        validate_leaf_object(obj)
        # details must be JSON: fail when the entry is made, not when it is logged. The bytes
        # are kept (the entry is frozen), so a writer encodes its leaf once, not twice.
        try:
            leaf = canonical_json(obj)
        except CanonicalJSONError as exc:
            raise EntryError(f"entry {self.seq or ''}: details: {exc}") from None
        object.__setattr__(self, "_leaf", leaf)

    def to_dict(self) -> dict[str, Any]:
        """Return the flat object whose canonical JSON is the leaf."""
        obj = {key: getattr(self, key) for key in LEAF_KEYS}
        if self.seq is None:
            del obj["seq"]
        return obj

    def leaf(self) -> bytes:
        """Return the canonical JSON bytes of this entry: the tree leaf."""
        return self._leaf  # type: ignore[attr-defined,no-any-return]

    def leaf_hash(self) -> bytes:
        """Return the RFC 9162 leaf hash of this entry's leaf."""
        return leaf_hash(self.leaf())

    @property
    def leaf_index(self) -> int:
        """Return the 0-based leaf index, ``seq - 1`` (v1 entries only)."""
        if self.seq is None:
            raise EntryError("a v2 entry's leaf index is its position in the tree")
        return self.seq - 1

    @classmethod
    def from_leaf(cls, data: bytes) -> Entry:
        """Parse leaf bytes into an Entry; raise EntryError unless they are a canonical leaf."""
        obj = _parse_leaf(data)
        validate_leaf_object(obj)  # first, so wrong keys raise EntryError, not TypeError
        return cls(**obj)


def validate_leaf_object(obj: Mapping[str, Any]) -> int | None:
    """Check a decoded leaf object field by field; return its seq (None for a v2 leaf) or raise
    EntryError."""
    keys = obj.keys()
    if keys != _LEAF_KEY_SET and keys != _LEAF_V2_KEY_SET:
        wanted = _LEAF_KEY_SET if "seq" in keys else _LEAF_V2_KEY_SET
        missing = sorted(wanted - keys)
        extra = sorted(keys - wanted)
        raise EntryError(f"leaf keys are wrong (missing {missing}, unexpected {extra})")
    seq = obj.get("seq")
    if "seq" in keys and (type(seq) is not int or seq < 1):
        raise EntryError("seq must be an integer of at least 1")
    try:
        check_timestamp(obj["timestamp"])
    except ValueError as exc:
        raise EntryError(str(exc)) from None
    actor_type, outcome = obj["actor_type"], obj["outcome"]
    if type(actor_type) is not str or actor_type not in ACTOR_TYPES:
        raise EntryError(f"actor_type must be one of {sorted(ACTOR_TYPES)}")
    if type(outcome) is not str or outcome not in OUTCOMES:
        raise EntryError(f"outcome must be one of {sorted(OUTCOMES)}")
    action = obj["action"]
    if type(action) is not str or _ACTION_RE.fullmatch(action) is None:
        raise EntryError("action must be dotted lowercase words, e.g. customer.read")
    for name in _OPTIONAL_TEXT:
        value = obj[name]
        if value is not None and (type(value) is not str or len(value) > _MAX_TEXT):
            raise EntryError(f"{name} must be a string of at most {_MAX_TEXT} characters")
    if type(obj["details"]) is not dict:
        raise EntryError("details must be a JSON object")
    return seq


def _parse_leaf(data: bytes) -> dict[str, Any]:
    try:
        obj = parse_canonical_json(data)
    except CanonicalJSONError as exc:
        raise EntryError(f"leaf is not canonical JSON: {exc}") from None
    if type(obj) is not dict:
        raise EntryError("leaf is not a JSON object")
    return cast(dict[str, Any], obj)


def leaf_seq(data: bytes) -> int | None:
    """Check leaf bytes are a canonical, valid entry without building it; return its seq (None
    for a v2 leaf)."""
    return validate_leaf_object(_parse_leaf(data))
