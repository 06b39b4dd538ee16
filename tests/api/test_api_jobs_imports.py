"""Imports through the API and jobs: state, progress, claims by several workers, resumption."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from governance.models import Customer, Job
from governance.services.jobs import queue as jobs


def test_csv_import_through_the_api_reports_rows(
    client: Any, crm: dict[str, str], call: Any
) -> None:
    body = (
        "external_ref,full_name,email,phone,country\n"
        "A1,Chen Jie,chen@example.com,13912345678,CN\n"
        "A2,No Email,bad@,,CN\n"
    )
    res = client.post(
        "/api/v1/imports", data=body.encode(), headers={**crm, "Content-Type": "text/csv"}
    )
    assert res.status_code == 201, res.json
    job = res.json
    assert job["kind"] == "import" and job["state"] == "succeeded"
    assert job["result"]["created"] == 1 and job["result"]["rejected"] == 1
    assert job["result"]["rows"][0]["row"] == 2
    assert job["progress"] == {"done": 2, "total": 2, "percent": 100.0}
    polled = client.get(f"/api/v1/jobs/{job['id']}", headers=crm)
    assert polled.status_code == 200 and polled.json["state"] == "succeeded"
    assert "bad@" not in json.dumps(job)


def test_jsonl_import_and_bad_uploads(client: Any, crm: dict[str, str]) -> None:
    body = json.dumps({"full_name": "Jo Doe", "email": "jo@example.com"}) + "\n"
    res = client.post(
        "/api/v1/imports", data=body, headers={**crm, "Content-Type": "application/x-ndjson"}
    )
    assert res.status_code == 201 and res.json["result"]["created"] == 1
    res = client.post(
        "/api/v1/imports", data="x", headers={**crm, "Content-Type": "application/pdf"}
    )
    assert res.status_code == 415
    res = client.post(
        "/api/v1/imports", data=b"\xff\xfe\x00", headers={**crm, "Content-Type": "text/csv"}
    )
    assert res.status_code == 415
    res = client.post(
        "/api/v1/imports", data="shoe,size\n1,2\n", headers={**crm, "Content-Type": "text/csv"}
    )
    assert res.status_code == 422 and "unknown CSV columns" in res.json["detail"]
    assert client.get("/api/v1/jobs/nope", headers=crm).status_code == 404


def _csv(tmp_path: Path, n: int) -> Path:
    lines = ["external_ref,full_name,email"]
    lines += [f"J{i},Person {i},p{i}@example.com" for i in range(1, n + 1)]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_two_workers_never_claim_the_same_job(call: Any, tmp_path: Path) -> None:
    first = jobs.submit(call, "import", {"path": str(_csv(tmp_path, 1))})
    second = jobs.submit(call, "import", {"path": str(_csv(tmp_path, 1))})
    call.session.commit()
    now = datetime.now(UTC)
    a = jobs.claim(call.session, "worker-a", now)
    b = jobs.claim(call.session, "worker-b", now)
    assert a is not None and b is not None
    assert {a.id, b.id} == {first.id, second.id}
    assert jobs.claim(call.session, "worker-c", now) is None


def test_a_job_whose_worker_died_is_resumed(call: Any, tmp_path: Path) -> None:
    """A worker that stops mid-import leaves a checkpoint; the next claim finishes the work."""
    from governance.services.customers import imports

    path = _csv(tmp_path, imports.BATCH * 2 + 10)
    job = jobs.submit(call, "import", {"path": str(path)})
    call.session.commit()
    claimed = jobs.claim(call.session, "dies", datetime.now(UTC))
    assert claimed is not None

    class Died(Exception):
        pass

    def die_after_first_batch(done: int, total: int | None) -> None:
        if done >= imports.BATCH:
            raise Died

    ctx = jobs.JobContext(call, claimed, on_progress=die_after_first_batch)
    try:
        imports.run_import(ctx)
    except Died:
        pass
    call.session.rollback()
    assert call.session.query(Customer).count() == imports.BATCH  # first batch committed
    assert call.session.get(Job, job.id).state == "running"
    later = datetime.now(UTC) + jobs.STALE_AFTER + timedelta(seconds=1)
    again = jobs.claim(call.session, "rescuer", later)
    assert again is not None and again.id == job.id and again.attempts == 2
    finished = jobs.run(call, again)
    assert finished.state == "succeeded", finished.error
    assert call.session.query(Customer).count() == imports.BATCH * 2 + 10
    assert finished.result["created"] == imports.BATCH * 2 + 10


def test_a_failing_job_is_recorded_cleanly(call: Any, tmp_path: Path) -> None:
    job = jobs.submit(call, "import", {"path": str(tmp_path / "gone.csv")})
    call.session.commit()
    done = jobs.run(call, job)
    assert done.state == "failed"
    assert done.error == "the import file does not exist or is not readable"


def test_health_and_readiness(client: Any) -> None:
    res = client.get("/healthz")
    assert res.status_code == 200
    assert res.json == {"status": "ok", "checks": {"database": "ok", "migrations": "current"}}
    assert client.get("/readyz").json["ready"] is True


def test_bad_json_lines_are_rejected_rows_not_a_failed_import(
    client: Any, crm: dict[str, str]
) -> None:
    """A line nested thousands deep, a lone surrogate or a control character in a note-like
    field: each is that row's rejection, and the good row is still imported."""
    lines = [
        json.dumps({"full_name": "Good Row", "email": "good@example.com"}),
        "[" * 5000 + "]" * 5000,
        '{"full_name": "Bad \\ud800 Row"}',
        '{"full_name": "Bell \\u0007 Row"}',
    ]
    res = client.post(
        "/api/v1/imports",
        data="\n".join(lines) + "\n",
        headers={**crm, "Content-Type": "application/x-ndjson"},
    )
    assert res.status_code == 201, res.json
    result = res.json["result"]
    assert res.json["state"] == "succeeded"
    assert result["created"] == 1 and result["rejected"] == 3
    assert [row["row"] for row in result["rows"]] == [2, 3, 4]


def test_an_import_names_a_stored_duplicate_only_to_who_sees_it_in_clear(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    """A dpo (who sees emails masked) importing a guessed email learns that the row is a
    duplicate, as any write would tell, but not which customer holds it nor on what field."""
    from conftest import csrf_headers, login_as

    first = client.post(
        "/api/v1/customers", headers=crm, json={"full_name": "Held", "email": "held@example.com"}
    )
    assert first.status_code == 201, first.json
    body = "full_name,email\nGuess,held@example.com\n"
    res = client.post(
        "/api/v1/imports", data=body.encode(), headers={**crm, "Content-Type": "text/csv"}
    )
    assert res.json["result"]["rows"][0]["duplicate_of"] == first.json["id"]

    dpo = app.test_client()
    login_as(app, dpo, "dpo")
    headers = {**csrf_headers(dpo), "Content-Type": "text/csv"}
    res = dpo.post("/api/v1/imports", data=body.encode(), headers=headers)
    assert res.status_code == 201, res.json
    [row] = res.json["result"]["rows"]
    assert row["status"] == "duplicate"
    assert row["duplicate_of"] is None and row["matched_on"] is None
    assert first.json["id"] not in json.dumps(res.json)
