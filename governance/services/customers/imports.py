"""Bulk import of customers from CSV or JSON Lines, as a resumable job.

Each row is validated and normalised on its own; a rejected row changes nothing. Rows whose
``external_ref`` matches an existing customer update it; rows that share a normalised email,
phone, id number or name + birth date with another customer (in the store or earlier in the file)
are reported as duplicates instead of creating a second customer. Work is committed in batches
together with one audit entry per batch listing the subject ids it created or updated.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from governance.context import Call
from governance.database import refresh_statistics
from governance.errors import GovernanceError, ValidationError
from governance.models import Customer, DataKey, Job
from governance.models.ids import new_id
from governance.services.consent import marketing as consent_marketing
from governance.services.consent.notices import in_force_with_purposes
from governance.services.customers import disclosure, reads
from governance.services.customers import store as cs
from governance.services.jobs.queue import JobContext, register, run, submit
from governance.services.keys.vault import DataUnavailable

BATCH = 2000  # rows per commit: larger batches dirty fewer index pages per row
PARALLEL_FROM = 5_000  # rows; smaller files are not worth starting processes for
MAX_REPORTED = 10_000
PURPOSE = "import_check"  # the system purpose of imports' internal reads (policies/purposes.yaml)
ADDRESS_COLUMNS = {f"address_{k}": k for k in ("line1", "line2", "city", "region", "postal_code")}
MARKETING_COLUMNS = {f"marketing_{k}": k for k in ("email", "sms", "phone", "post")}
CSV_COLUMNS = (
    {f for f in cs.FIELDS if f not in ("address", "marketing")}
    | set(ADDRESS_COLUMNS)
    | set(MARKETING_COLUMNS)
)


class ImportFileError(GovernanceError):
    """The file cannot be imported at all (unknown format, bad header, unreadable)."""

    status = 422
    slug = "import-file-invalid"
    title = "The import file cannot be read"


def detect_format(name: str, declared: str | None = None) -> str:
    """``csv`` or ``jsonl`` from an explicit format or the file name."""
    fmt = (declared or Path(name).suffix.lstrip(".")).lower()
    if fmt in ("csv",):
        return "csv"
    if fmt in ("jsonl", "ndjson", "json"):
        return "jsonl"
    raise ImportFileError("unknown import format: use .csv or .jsonl (JSON Lines)")


def _bool(text: str) -> bool | str:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "1", "y"):
        return True
    if lowered in ("false", "no", "0", "n", ""):
        return False
    return text  # left for validation to reject


def csv_row_to_document(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row (flat columns) as a customer JSON document."""
    doc: dict[str, Any] = {}
    address: dict[str, str] = {}
    marketing: dict[str, Any] = {}
    for column, value in row.items():
        if value is None or value == "":
            continue
        if column in ADDRESS_COLUMNS:
            address[ADDRESS_COLUMNS[column]] = value
        elif column in MARKETING_COLUMNS:
            marketing[MARKETING_COLUMNS[column]] = _bool(value)
        else:
            doc[column] = value
    if address:
        doc["address"] = address
    if marketing:
        doc["marketing"] = marketing
    return doc


def read_rows(text_stream: io.TextIOBase | Any, fmt: str) -> Iterator[tuple[int, Any]]:
    """Yield ``(row number, document or parse error)``; the header is checked up front."""
    if fmt == "csv":
        reader = csv.DictReader(text_stream)
        header = reader.fieldnames or []
        unknown = [c for c in header if c not in CSV_COLUMNS]
        if unknown or not header:
            raise ImportFileError(
                f"unknown CSV columns: {', '.join(unknown) or '(empty header)'}; "
                f"known: {', '.join(sorted(CSV_COLUMNS))}"
            )
        for number, row in enumerate(reader, start=1):
            if None in row:
                yield number, ValueError("row has more cells than the header")
            else:
                yield number, csv_row_to_document(row)
        return
    for number, line in enumerate(text_stream, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError:
            yield number, ValueError("line is not valid JSON")
        except RecursionError:  # a line nested thousands deep: that row is refused, not the job
            yield number, ValueError("line is nested too deeply")


def count_rows(path: Path, fmt: str) -> int:
    """Rows in a file (for the progress total)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        lines = sum(1 for line in fh if line.strip())
    return max(lines - 1, 0) if fmt == "csv" else lines


@dataclass
class Prepared:
    """One validated row, with the rows to insert should it be new (CPU work only)."""

    number: int
    errors: list[dict[str, Any]] | None = None
    clean: dict[str, Any] = field(default_factory=dict)
    lookup: Any = None
    customer_row: dict[str, Any] = field(default_factory=dict)
    key_row: dict[str, Any] = field(default_factory=dict)


def prepare_rows(call: Any, rows: list[tuple[int, Any]], now: datetime) -> list[Prepared]:
    """Validate and normalise rows, and encrypt each as a new customer with a fresh key.

    Pure computation on ``call.vault`` and ``call.settings`` (no database), so it can run in a
    worker process; a row that turns out to update an existing customer is re-encrypted under
    that customer's key when stored.
    """
    region = call.settings.get("DEFAULT_REGION", "CN")
    columns = {column.name: None for column in Customer.__table__.columns}
    out = []
    for number, doc in rows:
        if isinstance(doc, Exception):
            out.append(Prepared(number, [{"field": "", "message": str(doc)}]))
            continue
        try:
            clean = cs.validate_customer(doc, default_region=region)
        except ValidationError as exc:
            out.append(Prepared(number, exc.errors))
            continue
        lookup = cs.lookup_keys(call, clean)
        customer_id = new_id()
        key, key_row = call.vault.new_subject_key(customer_id)
        row: dict[str, Any] = {
            **columns,
            "id": customer_id,
            "created_at": now,
            "updated_at": now,
            "marketing": {},
        }
        row.update(cs.protected_values(call, customer_id, clean, key, lookup))
        key_row.update(created_at=now, rewrapped_at=None)
        out.append(Prepared(number, None, clean, lookup, row, key_row))
    return out


class Importer:
    """Imports batches of rows and accumulates the per-row report."""

    def __init__(self, call: Call, report: dict[str, Any] | None = None) -> None:
        self.call = call
        self.report = report or {
            "created": 0,
            "updated": 0,
            "rejected": 0,
            "duplicates": 0,
            "rows": [],
        }
        self.seen: dict[bytes, tuple[int, str]] = {}
        self._new_customers: list[dict[str, Any]] = []
        self._new_keys: list[dict[str, Any]] = []

    def _note(self, number: int, status: str, **extra: Any) -> None:
        key = {"rejected": "rejected", "duplicate": "duplicates"}.get(status, status)
        self.report[key] += 1
        if status in ("rejected", "duplicate") and len(self.report["rows"]) < MAX_REPORTED:
            self.report["rows"].append({"row": number, "status": status, **extra})

    def _disclosed(self, clash: tuple[str, str]) -> dict[str, str | None]:
        """Which record a row duplicates, as the importer may know it.

        A clash with another row of the same file is the caller's own data. A clash with a
        stored customer names it only to a caller that sees every compared field in clear
        (``crm_app``) or to an operator on the server: for a role that sees them masked, naming
        it would unmask the row's values (customer_disclosure.py), so the report says only that
        it is a duplicate.
        """
        actor = self.call.actor
        trusted = actor.type == "system"  # an operator on the server machine (the CLI)
        own_row = clash[0].startswith("row ")
        if trusted or own_row or disclosure.sees_in_clear(actor, disclosure.COMPARED_ALL):
            return {"duplicate_of": clash[0], "matched_on": clash[1]}
        return {"duplicate_of": None, "matched_on": None}

    def batch(self, rows: list[tuple[int, Any]]) -> None:
        """Validate, de-duplicate and store one batch (caller commits)."""
        self.store(prepare_rows(self.call, rows, self.call.now()))

    def store(self, prepared: list[Prepared]) -> None:
        """De-duplicate and store prepared rows (caller commits)."""
        call = self.call
        valid = []
        for p in prepared:
            if p.errors is not None:
                self._note(p.number, "rejected", errors=p.errors)
            else:
                valid.append(p)
        existing_refs = self._existing_refs([p.clean.get("external_ref") for p in valid])
        # an update decrypts the stored name and birth date: an internal read (one key query)
        targets = [c.id for c in existing_refs.values()]
        keys = reads.subject_keys(reads.internal(call, PURPOSE), targets) if targets else {}
        taken = self._existing_indexes([p.lookup for p in valid])
        created: list[str] = []
        updated: list[str] = []
        batch_refs: dict[str, int] = {}
        flags: list[tuple[str, dict[str, bool]]] = []
        for p in valid:
            ref = p.clean.get("external_ref") or ""
            target = existing_refs.get(ref)
            clash = self._clash(p.lookup, taken, target.id if target else None)
            if ref and ref in batch_refs:
                clash = (f"row {batch_refs[ref]}", "external_ref")
            if clash:
                self._note(p.number, "duplicate", **self._disclosed(clash))
                continue
            if ref:
                batch_refs[ref] = p.number
            if target is not None:
                key = keys.get(target.id)
                if key is None:
                    raise DataUnavailable(f"no data key for subject {target.id}")
                cs.apply_fields(call, target, p.clean, key, p.lookup)
                target.updated_at = call.now()
                updated.append(target.id)
                if p.clean.get("marketing"):
                    flags.append((target.id, p.clean["marketing"]))
                self._remember(p.lookup, p.number, target.id)
                self._note(p.number, "updated")
            else:
                self._new_customers.append(p.customer_row)
                self._new_keys.append(p.key_row)
                created.append(p.customer_row["id"])
                if p.clean.get("marketing"):
                    flags.append((created[-1], p.clean["marketing"]))
                self._remember(p.lookup, p.number, created[-1])
                self._note(p.number, "created")
        if self._new_customers:
            call.session.execute(DataKey.__table__.insert(), self._new_keys)
            call.session.execute(Customer.__table__.insert(), self._new_customers)
            self._new_customers, self._new_keys = [], []
        call.session.flush()
        self._consents(flags)
        if created or updated:
            call.audit.record(
                call.session,
                call.actor,
                "customer.import",
                now=call.now(),
                resource="customers",
                purpose=PURPOSE,
                details={"created": created, "updated": updated},
            )

    def _consents(self, flags: list[tuple[str, dict[str, bool]]]) -> None:
        """The marketing flags of imported rows as consent events (source ``import``)."""
        if not flags:
            return
        before = consent_marketing.views(self.call, [subject for subject, _ in flags])
        notice = in_force_with_purposes(self.call)
        for subject, wanted in flags:
            consent_marketing.write(
                self.call, subject, before.get(subject, {}), wanted, "import", notice
            )

    def _existing_refs(self, refs: list[str | None]) -> dict[str, Customer]:
        """Customers by the references they hold, found by blind index (never decrypted)."""
        bidx = self.call.vault.blind_index
        wanted = {bidx("external_ref", r): r for r in refs if r}
        found: dict[str, Customer] = {}
        indexes = list(wanted)
        for start in range(0, len(indexes), 500):
            query = select(Customer).where(
                Customer.external_ref_bidx.in_(indexes[start : start + 500])
            )
            for customer in self.call.session.scalars(query):
                found[wanted[bytes(customer.external_ref_bidx or b"")]] = customer  # matched on it
        return found

    def _existing_indexes(self, lookups: list[cs.Lookup]) -> dict[tuple[str, bytes], str]:
        taken: dict[tuple[str, bytes], str] = {}
        for kind in ("email", "phone", "national_id", "name_dob"):
            column = getattr(Customer, f"{kind}_bidx")
            values = list({v for k in lookups if (v := getattr(k, kind)) is not None})
            for start in range(0, len(values), 500):
                rows = self.call.session.execute(
                    select(column, Customer.id).where(column.in_(values[start : start + 500]))
                )
                taken.update({(kind, bytes(v)): cid for v, cid in rows})
        return taken

    def _clash(
        self, keys: cs.Lookup, taken: dict[tuple[str, bytes], str], self_id: str | None
    ) -> tuple[str, str] | None:
        for kind in ("email", "phone", "national_id", "name_dob"):
            value = getattr(keys, kind)
            if value is None:
                continue
            other = taken.get((kind, value))
            if other and other != self_id:
                return other, kind
            earlier = self.seen.get(value)
            if earlier and earlier[1] != self_id:
                return f"row {earlier[0]}", kind
        return None

    def _remember(self, keys: cs.Lookup, number: int, customer_id: str) -> None:
        for kind in ("email", "phone", "national_id", "name_dob"):
            value = getattr(keys, kind)
            if value is not None:
                self.seen[value] = (number, customer_id)


def _batches(rows: Iterable[tuple[int, Any]], after: int) -> Iterator[list[tuple[int, Any]]]:
    pending: list[tuple[int, Any]] = []
    for number, doc in rows:
        if number <= after:
            continue
        pending.append((number, doc))
        if len(pending) >= BATCH:
            yield pending
            pending = []
    if pending:
        yield pending


# The pool's workers inherit this (fork) instead of receiving keys through pickling.
_PREPARE_CONTEXT: dict[str, Any] = {}


def _prepare_in_worker(rows: list[tuple[int, Any]], now: datetime) -> list[Prepared]:
    gc.disable()  # a forked worker only ever runs this: no cycles worth collecting
    return prepare_rows(_PREPARE_CONTEXT["call"], rows, now)


def _prepared_batches(
    call: Call, batches: Iterator[list[tuple[int, Any]]], workers: int
) -> Iterator[list[Prepared]]:
    """Prepared batches in order; CPU work in ``workers`` forked processes when asked."""
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for rows in batches:
            yield prepare_rows(call, rows, call.now())
        return
    _PREPARE_CONTEXT["call"] = SimpleNamespace(vault=call.vault, settings=call.settings)
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        window: deque[Any] = deque()
        for rows in batches:
            window.append(pool.apply_async(_prepare_in_worker, (rows, call.now())))
            if len(window) > 2 * workers:  # bounded read-ahead: memory stays flat
                yield window.popleft().get()
        while window:
            yield window.popleft().get()
    finally:
        pool.terminate()
        _PREPARE_CONTEXT.clear()


def _import_rows(
    ctx: JobContext, rows: Iterable[tuple[int, Any]], fmt: str, total: int, workers: int = 1
) -> dict[str, Any]:
    """Import ``(row number, document)`` pairs in batches, resuming after the last saved row.

    Validation, normalisation and encryption may run in worker processes; duplicate checks,
    inserts, the audit entry and the commit stay here, batch by batch, in file order.
    """
    done = int(ctx.saved.get("row", 0))
    importer = Importer(ctx.call, ctx.saved.get("report"))
    # Millions of short-lived dicts, none cyclic: the cyclic GC would only rescan them.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for prepared in _prepared_batches(ctx.call, _batches(rows, done), workers):
            importer.store(prepared)
            done = prepared[-1].number
            ctx.progress(done, total, {"row": done, "report": importer.report})
    finally:
        if gc_was_enabled:
            gc.enable()
    ctx.progress(total, total, {"row": done, "report": importer.report})
    refresh_statistics(ctx.call.session.connection(), importer.report.get("created", 0))
    return {"format": fmt, **importer.report}


@register("import")
def run_import(ctx: JobContext) -> dict[str, Any]:
    """Job handler: import the file at ``params.path``."""
    path = Path(ctx.params["path"])
    fmt = detect_format(path.name, ctx.params.get("format"))
    if not path.is_file():
        raise ImportFileError("the import file does not exist or is not readable")
    total = count_rows(path, fmt)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        workers = 2 if total >= PARALLEL_FROM else 1
        return _import_rows(ctx, read_rows(fh, fmt), fmt, total, workers)


def import_stream(call: Call, stream: io.StringIO, fmt: str) -> Job:
    """Import an uploaded body now, recorded as a finished ``import`` job.

    The upload is never written to disk (it holds personal data in clear), so it runs in the
    request rather than on a worker; a bad header fails before anything is stored.
    """
    rows = list(read_rows(stream, fmt))
    job = submit(call, "import", {"format": fmt, "source": "upload"}, foreground=True)
    call.session.commit()  # the job row exists before its rows run
    return run(call, job, handler=lambda ctx: _import_rows(ctx, rows, fmt, len(rows)))
