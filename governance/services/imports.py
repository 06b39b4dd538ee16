"""Bulk import of customers from CSV or JSON Lines, as a resumable job.

Each row is validated and normalised on its own; a rejected row changes nothing. Rows whose
``external_ref`` matches an existing customer update it; rows that share a normalised email,
phone, id number or name + birth date with another customer (in the store or earlier in the file)
are reported as duplicates instead of creating a second customer. Work is committed in batches
together with one audit entry per batch listing the subject ids it created or updated.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from governance.errors import GovernanceError, ValidationError
from governance.models import Customer, Job
from governance.models.ids import new_id
from governance.services import customers as cs
from governance.services.context import Call
from governance.services.jobs import JobContext, register, run, submit

BATCH = 500
MAX_REPORTED = 10_000
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


def count_rows(path: Path, fmt: str) -> int:
    """Rows in a file (for the progress total)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        lines = sum(1 for line in fh if line.strip())
    return max(lines - 1, 0) if fmt == "csv" else lines


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

    def _note(self, number: int, status: str, **extra: Any) -> None:
        key = {"rejected": "rejected", "duplicate": "duplicates"}.get(status, status)
        self.report[key] += 1
        if status in ("rejected", "duplicate") and len(self.report["rows"]) < MAX_REPORTED:
            self.report["rows"].append({"row": number, "status": status, **extra})

    def batch(self, rows: list[tuple[int, Any]]) -> None:
        """Validate, de-duplicate and store one batch (caller commits)."""
        call = self.call
        region = call.settings.get("DEFAULT_REGION", "CN")
        valid: list[tuple[int, dict[str, Any], cs.Lookup]] = []
        for number, doc in rows:
            if isinstance(doc, Exception):
                self._note(number, "rejected", errors=[{"field": "", "message": str(doc)}])
                continue
            try:
                clean = cs.validate_customer(doc, default_region=region)
            except ValidationError as exc:
                self._note(number, "rejected", errors=exc.errors)
                continue
            valid.append((number, clean, cs.lookup_keys(call, clean)))
        existing_refs = self._existing_refs([c.get("external_ref") for _, c, _ in valid])
        taken = self._existing_indexes([k for _, _, k in valid])
        created: list[str] = []
        updated: list[str] = []
        for number, clean, keys in valid:
            target = existing_refs.get(clean.get("external_ref") or "")
            clash = self._clash(keys, taken, target.id if target else None)
            if clash:
                self._note(number, "duplicate", duplicate_of=clash[0], matched_on=clash[1])
                continue
            if target is not None:
                key = call.vault.subject_key(call.session, target.id)
                cs.apply_fields(call, target, clean, key)
                target.updated_at = call.now()
                updated.append(target.id)
                self._remember(keys, number, target.id)
                self._note(number, "updated")
            else:
                created.append(self._create(clean))
                self._remember(keys, number, created[-1])
                self._note(number, "created")
        call.session.flush()
        if created or updated:
            call.audit.record(
                call.session,
                call.actor,
                "customer.import",
                now=call.now(),
                resource="customers",
                details={"created": created, "updated": updated},
            )

    def _create(self, clean: dict[str, Any]) -> str:
        call = self.call
        now = call.now()
        customer = Customer(id=new_id(), created_at=now, updated_at=now, marketing={})
        key = call.vault.create_subject_key(call.session, customer.id)
        cs.apply_fields(call, customer, clean, key)
        call.session.add(customer)
        return customer.id

    def _existing_refs(self, refs: list[str | None]) -> dict[str, Customer]:
        wanted = [r for r in refs if r]
        if not wanted:
            return {}
        rows = self.call.session.scalars(select(Customer).where(Customer.external_ref.in_(wanted)))
        return {c.external_ref: c for c in rows if c.external_ref}

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


def _import_rows(
    ctx: JobContext, rows: Iterable[tuple[int, Any]], fmt: str, total: int
) -> dict[str, Any]:
    """Import ``(row number, document)`` pairs in batches, resuming after the last saved row."""
    saved = ctx.saved
    done = int(saved.get("row", 0))
    importer = Importer(ctx.call, saved.get("report"))
    pending: list[tuple[int, Any]] = []
    for number, doc in rows:
        if number <= done:
            continue
        pending.append((number, doc))
        if len(pending) >= BATCH:
            importer.batch(pending)
            done = pending[-1][0]
            pending = []
            ctx.progress(done, total, {"row": done, "report": importer.report})
    if pending:
        importer.batch(pending)
        done = pending[-1][0]
    ctx.progress(total, total, {"row": done, "report": importer.report})
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
        return _import_rows(ctx, read_rows(fh, fmt), fmt, total)


def import_stream(call: Call, stream: io.StringIO, fmt: str) -> Job:
    """Import an uploaded body now, recorded as a finished ``import`` job.

    The upload is never written to disk (it holds personal data in clear), so it runs in the
    request rather than on a worker; a bad header fails before anything is stored.
    """
    rows = list(read_rows(stream, fmt))
    job = submit(call, "import", {"format": fmt, "source": "upload"})
    call.session.commit()
    return run(call, job, handler=lambda ctx: _import_rows(ctx, rows, fmt, len(rows)))
