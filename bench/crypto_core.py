"""Benchmark of the pure cryptographic core (no database): field sealing, blind indexes, rotation.

Prints µs per 10-field record for encrypt+decrypt (AES-256-GCM, NIST SP 800-38D), the cost of
unwrapping a subject's DEK on a read, a blind-index computation, and the time to unwrap and
re-wrap 100,000 DEKs (the cryptographic part of a KEK rotation; the database part is measured by
the rotation job's own bench). Run: ``python bench/crypto_core.py [--deks N]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from governance.crypto import (
    BlindIndexer,
    FieldCipher,
    FieldPlace,
    LocalKeySource,
    new_data_key,
    new_data_key_id,
    rewrap,
)

RECORD: dict[str, object] = {
    "full_name": "Zoë Ñandú-Okafor",
    "email": "zoe.nandu-okafor@example.org",
    "phone": "+33612345678",
    "date_of_birth": "1987-04-12",
    "national_id": "110101198704120011",
    "passport": "X12345678",
    "address": {"street": "12 Rue de la Paix", "city": "Paris", "zip": "75002", "country": "FR"},
    "notes": "Prefers e-mail contact; called about order 1042 on Tuesday. " * 3,
    "employer": "Example Industries SARL",
    "iban_hint": "FR76 **** **** 1234",
}
SUBJECT = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"


def per_call_us(fn: Callable[[], object], repeat: int) -> float:
    """Best of three runs of ``repeat`` calls, in µs per call."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, time.perf_counter() - start)
    return best / repeat * 1e6


def seal_record(cipher: FieldCipher) -> dict[str, bytes]:
    out = {}
    for column, value in RECORD.items():
        place = FieldPlace("customers", column, SUBJECT)
        if isinstance(value, str):
            out[column] = cipher.encrypt(place, value)
        else:
            out[column] = cipher.encrypt_json(place, value)
    return out


def open_record(cipher: FieldCipher, sealed: dict[str, bytes]) -> dict[str, object]:
    out: dict[str, object] = {}
    for column, blob in sealed.items():
        place = FieldPlace("customers", column, SUBJECT)
        if isinstance(RECORD[column], str):
            out[column] = cipher.decrypt(place, blob)
        else:
            out[column] = cipher.decrypt_json(place, blob)
    return out


def bench_fields(source: LocalKeySource, repeat: int) -> None:
    dek, dek_id = new_data_key(), new_data_key_id()
    wrapped = source.wrap(dek)
    cipher = FieldCipher(dek, dek_id)
    sealed = seal_record(cipher)
    assert open_record(cipher, sealed) == RECORD

    def round_trip() -> None:
        open_record(cipher, seal_record(cipher))

    def governed_read() -> None:  # what a read does: unwrap the subject's DEK, open 10 fields
        open_record(FieldCipher(source.unwrap(wrapped), dek_id), sealed)

    print(
        f"encrypt+decrypt, 10-field record     : {per_call_us(round_trip, repeat):8.1f} µs/record"
    )
    print(
        f"  encrypt only                       : "
        f"{per_call_us(lambda: seal_record(cipher), repeat):8.1f} µs/record"
    )
    print(
        f"  decrypt only                       : "
        f"{per_call_us(lambda: open_record(cipher, sealed), repeat):8.1f} µs/record"
    )
    print(
        f"read: unwrap DEK + decrypt 10 fields : "
        f"{per_call_us(governed_read, repeat):8.1f} µs/record"
    )
    print(
        f"  unwrap DEK alone                   : "
        f"{per_call_us(lambda: source.unwrap(wrapped), repeat):8.1f} µs"
    )


def bench_blind_index(source: LocalKeySource, repeat: int) -> None:
    indexer = BlindIndexer.from_source(source)
    us = per_call_us(lambda: indexer.index("email", "zoe.nandu-okafor@example.org"), repeat)
    print(f"blind index (cached kind key)        : {us:8.1f} µs")


def bench_rotation(count: int) -> None:
    kek_1, kek_2 = new_data_key(), new_data_key()  # any 32 random bytes make a KEK
    old = LocalKeySource({1: kek_1})
    wrapped = [old.wrap(new_data_key()) for _ in range(count)]
    rotated = LocalKeySource({1: kek_1, 2: kek_2})
    start = time.perf_counter()
    moved = [rewrap(rotated, w) for w in wrapped]
    elapsed = time.perf_counter() - start
    assert all(m.version == 2 for m in moved)
    print(
        f"unwrap+rewrap {count:,} DEKs           : {elapsed:8.2f} s "
        f"({elapsed / count * 1e6:.1f} µs per DEK; target for the whole rotation: < 10 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2_000)
    args = parser.parse_args()
    source = LocalKeySource({1: new_data_key()})
    bench_fields(source, args.repeat)
    bench_blind_index(source, args.repeat * 10)
    bench_rotation(args.deks)


if __name__ == "__main__":
    main()
