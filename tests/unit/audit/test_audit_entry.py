"""Canonical JSON and the audit entry leaf encoding."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from audit.entry import LEAF_KEYS, Entry, EntryError
from audit.hashing import CanonicalJSONError, canonical_json, leaf_hash, parse_canonical_json
from audit.timefmt import format_timestamp, parse_timestamp

TS = "2024-05-01T12:34:56.000001Z"


def make_entry(**overrides: Any) -> Entry:
    fields: dict[str, Any] = {
        "seq": 7,
        "timestamp": TS,
        "actor_type": "user",
        "actor_id": "u-42",
        "actor_role": "dpo",
        "action": "customer.read",
        "resource": "customers",
        "subject_id": "c-9",
        "purpose": "marketing",
        "outcome": "allowed",
        "request_id": "r-1",
        "client": "192.0.2.7",
        "details": {"fields": ["email", "name"], "masked": True, "note": "é中"},
    }
    fields.update(overrides)
    return Entry(**fields)


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    data = {"b": [1, 2.5, None, True], "a": {"z": "é", "y": "中"}}
    assert canonical_json(data) == '{"a":{"y":"中","z":"é"},"b":[1,2.5,null,true]}'.encode()


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), {1: "x"}, (1, 2), {"a": {1, 2}}, b"bytes", "\ud800", object()],
)
def test_canonical_json_rejects_non_json_values(value: object) -> None:
    with pytest.raises(CanonicalJSONError):
        canonical_json(value)


@pytest.mark.parametrize(
    "data",
    [b'{"b":1,"a":2}', b'{"a": 1}', b'{"a":"\\u00e9"}', b'{"a":1,"a":1}', b"NaN", b"\xff", b"{"],
)
def test_parse_canonical_json_rejects_non_canonical_bytes(data: bytes) -> None:
    with pytest.raises(CanonicalJSONError):
        parse_canonical_json(data)


def test_leaf_has_exactly_the_documented_flat_keys() -> None:
    entry = make_entry()
    obj = json.loads(entry.leaf())
    assert tuple(obj) == LEAF_KEYS == tuple(sorted(LEAF_KEYS))
    assert obj["seq"] == 7 and obj["action"] == "customer.read" and obj["actor_id"] == "u-42"
    assert entry.leaf_hash() == leaf_hash(entry.leaf())
    assert entry.leaf_index == 6


def test_leaf_round_trips() -> None:
    entry = make_entry()
    assert Entry.from_leaf(entry.leaf()) == entry
    minimal = Entry(seq=1, timestamp=TS, actor_type="system", action="job.run", outcome="failed")
    assert Entry.from_leaf(minimal.leaf()) == minimal
    assert json.loads(minimal.leaf())["details"] == {}


def test_from_leaf_rejects_non_canonical_or_incomplete_leaves() -> None:
    obj = make_entry().to_dict()
    spaced = json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()
    with pytest.raises(EntryError, match="canonical"):
        Entry.from_leaf(spaced)
    del obj["purpose"]
    with pytest.raises(EntryError, match=r"missing \['purpose'\]"):
        Entry.from_leaf(canonical_json(obj))
    with pytest.raises(EntryError, match="not a JSON object"):
        Entry.from_leaf(b"[]")


@pytest.mark.parametrize(
    "overrides",
    [
        {"seq": 0},
        {"seq": True},
        {"timestamp": "2024-05-01T12:34:56Z"},
        {"timestamp": "2024-05-01T12:34:56.000000+00:00"},
        {"timestamp": "2024-02-30T12:34:56.000000Z"},
        {"actor_type": "robot"},
        {"outcome": "maybe"},
        {"action": "Customer Read"},
        {"action": "read"},
        {"subject_id": 5},
        {"client": "x" * 1001},
        {"details": ["not", "an", "object"]},
    ],
)
def test_invalid_fields_are_rejected(overrides: dict[str, Any]) -> None:
    with pytest.raises(EntryError):
        make_entry(**overrides)


def test_details_must_be_json() -> None:
    with pytest.raises(EntryError, match="details"):
        make_entry(details={"when": datetime.now(UTC)})


@pytest.mark.parametrize(
    ("key", "value"),
    [("actor_type", ["user"]), ("outcome", {"a": 1}), ("seq", "7"), ("details", None)],
)
def test_from_leaf_rejects_wrong_types(key: str, value: object) -> None:
    obj = {**make_entry().to_dict(), key: value}
    with pytest.raises(EntryError):
        Entry.from_leaf(canonical_json(obj))


def test_timestamp_format_is_one_spelling_in_utc() -> None:
    moment = datetime(2024, 5, 1, 14, 34, 56, 1, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(moment) == TS
    assert parse_timestamp(TS) == moment
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2024, 5, 1))
