"""Jobs are scoped to their owner: another application's job answers as if it did not exist."""

from __future__ import annotations

from typing import Any

from conftest import login_as, make_token

CSV = "external_ref,full_name,email\nR-1,Ann Example,ann@example.com\n"


def _import(client: Any, token: str) -> str:
    res = client.post(
        "/api/v1/imports",
        data=CSV,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    )
    assert res.status_code in (201, 202), res.get_data(as_text=True)
    return str(res.json["id"])


def test_an_application_reads_its_own_jobs_only(app: Any, client: Any) -> None:
    mine = make_token(app, "crm_app", "crm-one")
    theirs = make_token(app, "crm_app", "crm-two")
    job_id = _import(client, mine)
    own = client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {mine}"})
    assert own.status_code == 200 and own.json["id"] == job_id
    other = client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {theirs}"})
    missing = client.get(
        "/api/v1/jobs/00000000-0000-4000-8000-000000000000",
        headers={"Authorization": f"Bearer {theirs}"},
    )
    assert other.status_code == missing.status_code == 404
    assert other.mimetype == "application/problem+json"
    assert other.json["detail"] == missing.json["detail"] and job_id not in other.json["detail"]


def test_roles_that_oversee_jobs_see_every_job(app: Any, client: Any) -> None:
    job_id = _import(client, make_token(app, "crm_app", "crm-one"))
    login_as(app, client, "dpo")
    assert client.get(f"/api/v1/jobs/{job_id}").status_code == 200
    assert job_id in [j["id"] for j in client.get("/api/v1/jobs").json["items"]]
    login_as(app, client, "admin", "admin@example.com")
    assert client.get(f"/jobs/{job_id}").status_code == 200
    assert job_id in client.get("/jobs").get_data(as_text=True)


def test_a_job_listing_holds_only_the_callers_jobs(app: Any, call: Any) -> None:
    from governance.context import Actor
    from governance.services.jobs import queue as jobs

    owner = Actor(id="sa-one", type="service", roles=("crm_app",))
    other = Actor(id="sa-two", type="service", roles=("crm_app",))
    job = jobs.submit(call.as_actor(owner), "demo-data", {"count": 1})
    call.session.commit()
    assert [j.id for j in jobs.recent(call.session, actor=owner)] == [job.id]
    assert jobs.recent(call.session, actor=other) == []
