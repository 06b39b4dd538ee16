"""Store scans for personal data (issue 6): every text column, decrypted in memory only.

A ``pii.scan`` job reads customers, orders and interactions in id order, decrypts the encrypted
text columns with each subject's data key (``Vault.subject_keys``, one query per batch), and
feeds ONE generator of ``(location, text)`` items to ``pii.scan_texts`` for the whole scan, so
the detector's worker pool starts once. Findings are recorded by location and type (never the
value, see ``pii_findings``); the scan stores a data inventory per table and column. A full scan
reads everything; an incremental scan reads only records whose ``updated_at`` is at or after
``since`` (by default the start of the last successful scan). Audited ``pii.scan``, counts only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import select, update

from governance.context import Call
from governance.errors import Conflict, ValidationError
from governance.models import Job, PiiScan
from governance.models.pii import SCAN_MODES
from governance.services.customers import normalise as norm
from governance.services.jobs import queue as jobs
from governance.services.jobs.queue import JobContext, register
from governance.services.pii.findings import (
    Recorder,
    ScannedRecord,
    active_counts,
    expected_types,
    inventory,
)
from governance.services.pii.sources import TEXT_COLUMNS, StoreReader

KIND = "pii.scan"
DEFAULT_WORKERS = 2
FLUSH_EVERY = 200  # records per findings write and progress report


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def scan_params(
    mode: str = "incremental", since: Any = None, workers: Any = None
) -> dict[str, Any]:
    """Validated job parameters; ValidationError naming the bad field."""
    errors = []
    if mode not in SCAN_MODES:
        errors.append({"field": "mode", "message": "must be full or incremental"})
    stamp = None
    if since not in (None, ""):
        try:
            stamp = norm.parse_timestamp(since)
        except norm.FieldError:
            errors.append({"field": "since", "message": "must be an ISO 8601 time"})
        if mode == "full":
            errors.append({"field": "since", "message": "only applies to incremental scans"})
    params: dict[str, Any] = {"mode": mode, "since": _iso(stamp)}
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 8:
            errors.append({"field": "workers", "message": "must be a whole number from 1 to 8"})
        params["workers"] = workers
    if errors:
        raise ValidationError("invalid scan request", errors)
    return params


def ensure_idle(call: Call) -> None:
    """Conflict when a scan is queued or running (a stale one, whose worker died, is ignored)."""
    busy = call.session.scalars(
        select(Job).where(Job.kind == KIND, Job.state.in_(("queued", "running")))
    )
    now = call.now()
    for job in busy:
        beat = job.heartbeat_at
        if job.state == "queued" or (beat is not None and now - beat < jobs.STALE_AFTER):
            raise Conflict(f"a PII scan is already {job.state} (job {job.id})")


def submit_scan(call: Call, mode: str = "incremental", since: Any = None) -> Job:
    """Queue a scan job for a worker (not committed); Conflict when one is pending."""
    params = scan_params(mode, since)
    ensure_idle(call)
    return jobs.submit(call, KIND, params)


def last_scan(call: Call, state: str | None = "succeeded") -> PiiScan | None:
    """The most recent scan (in ``state``), or None."""
    query = select(PiiScan).order_by(PiiScan.started_at.desc(), PiiScan.id.desc()).limit(1)
    if state:
        query = query.where(PiiScan.state == state)
    return call.session.scalars(query).first()


def recent_scans(call: Call, limit: int = 20) -> list[PiiScan]:
    """Scans, newest first."""
    query = select(PiiScan).order_by(PiiScan.started_at.desc(), PiiScan.id.desc()).limit(limit)
    return list(call.session.scalars(query))


def scan_doc(scan: PiiScan) -> dict[str, Any]:
    """The public JSON shape of a scan, with its inventory."""
    return {
        "id": scan.id,
        "job_id": scan.job_id,
        "mode": scan.mode,
        "since": _iso(scan.since),
        "state": scan.state,
        "started_at": _iso(scan.started_at),
        "finished_at": _iso(scan.finished_at),
        "records_scanned": scan.records_scanned,
        "texts_scanned": scan.texts_scanned,
        "summary": scan.summary or {},
        "inventory": scan.inventory or [],
    }


# -- the job -------------------------------------------------------------------------------
@register(KIND)
def run_scan(ctx: JobContext) -> dict[str, Any]:
    """Job handler: scan the store (``params``: mode, since, workers)."""
    scan = _open_scan(ctx)
    try:
        return _scan(ctx, scan)
    except Exception:
        _mark_failed(ctx.call, scan.id)
        raise


def _open_scan(ctx: JobContext) -> PiiScan:
    """The scan row of this job: resumed from the checkpoint, or new (committed)."""
    call = ctx.call
    saved = ctx.saved.get("scan_id")
    scan = call.session.get(PiiScan, saved) if saved else None
    if scan is not None:
        return scan
    params = scan_params(ctx.params.get("mode", "incremental"), ctx.params.get("since"))
    mode = params["mode"]
    since = norm.parse_timestamp(params["since"]) if params["since"] else None
    if mode == "incremental" and since is None:
        previous = last_scan(call)
        if previous is None:
            mode = "full"  # nothing was scanned before: every record is new
        else:
            since = previous.started_at
    scan = PiiScan(
        job_id=ctx.job.id,
        mode=mode,
        since=since,
        state="running",
        started_at=call.now(),
        created_by=call.actor.id,
    )
    call.session.add(scan)
    _close_abandoned(call)
    call.session.flush()
    ctx.progress(0, None, {"scan_id": scan.id})
    return scan


def _close_abandoned(call: Call) -> None:
    """Scans left ``running`` by a job that has ended (its worker gave up) are failed."""
    ended = select(Job.id).where(Job.kind == KIND, Job.state.in_(("succeeded", "failed")))
    call.session.execute(
        update(PiiScan)
        .where(PiiScan.state == "running", PiiScan.job_id.in_(ended))
        .values(state="failed", finished_at=call.now())
        .execution_options(synchronize_session=False)
    )


def _records(results: Iterator[tuple[Any, list[Any]]]) -> Iterator[ScannedRecord]:
    """Group the scanner's per-column results (in input order) into records."""
    current: ScannedRecord | None = None
    for (table, column, record_id, subject), findings in results:
        if current is None or (current.table, current.record_id) != (table, record_id):
            if current is not None:
                yield current
            current = ScannedRecord(table, record_id, subject)
        current.columns[column] = findings
    if current is not None:
        yield current


def _scan(ctx: JobContext, scan: PiiScan) -> dict[str, Any]:
    from governance.services.pii import detection as pii

    call = ctx.call
    expected = expected_types(call.vault.rules)
    reader = StoreReader(call, scan.since if scan.mode == "incremental" else None)
    total = reader.total()
    ctx.progress(0, total)
    recorder = Recorder(call, scan, expected)
    workers = int(ctx.params.get("workers") or DEFAULT_WORKERS)
    items = reader.items()
    first = next(items, None)
    # Nothing changed since the last scan: no need to start the detector's worker pool.
    results = (
        pii.scan_texts(chain([first], items), workers=workers, batch_size=64)
        if first is not None
        else iter(())
    )
    done = 0
    pending: list[ScannedRecord] = []
    for record in _records(results):
        pending.append(record)
        if len(pending) >= FLUSH_EVERY:
            recorder.record(pending)
            done += len(pending)
            pending = []
            ctx.progress(done, total)
    recorder.record(pending)
    done += len(pending)
    recorder.sweep_deleted()
    return _complete(ctx, scan, reader, recorder, done)


def _complete(
    ctx: JobContext, scan: PiiScan, reader: StoreReader, recorder: Recorder, done: int
) -> dict[str, Any]:
    call = ctx.call
    observed = dict(sorted(recorder.observed.items()))
    counts = {"new": recorder.new, "remediated": recorder.remediated, "reopened": recorder.reopened}
    scan.records_scanned = done
    scan.texts_scanned = reader.texts
    scan.summary = {
        "observed": observed,
        **counts,
        "records_by_table": dict(reader.records),
        "unreadable": reader.unreadable,
        "by_entity": active_counts(call),
        "undeclared_by_entity": active_counts(call, undeclared_only=True),
    }
    scan.inventory = inventory(call, TEXT_COLUMNS, reader.records, recorder.expected)
    scan.state = "succeeded"
    scan.finished_at = call.now()
    call.audit.record(
        call.session,
        call.actor,
        "pii.scan",
        now=call.now(),
        resource="pii_scans",
        purpose=reader.call.purpose_name,
        details={
            "scan_id": scan.id,
            "mode": scan.mode,
            "records": done,
            "texts": reader.texts,
            "entity_counts": observed,
            "unreadable": reader.unreadable,
            **counts,
        },
    )
    ctx.progress(done, max(done, ctx.job.progress_total or 0))
    return {
        "scan_id": scan.id,
        "mode": scan.mode,
        "since": _iso(scan.since),
        "records_scanned": done,
        "texts_scanned": reader.texts,
        "findings": observed,
        **counts,
    }


def _mark_failed(call: Call, scan_id: str) -> None:
    call.session.rollback()
    scan = call.session.get(PiiScan, scan_id)
    if scan is not None:
        scan.state = "failed"
        scan.finished_at = call.now()
        call.session.commit()  # the failure outlives the rolled-back step
