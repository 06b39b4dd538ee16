"""The web process stays light: starting the app, serving non-PII requests, the PII status page
and the console's PII page load no model (not even Presidio or spaCy); the first analysis does.

Runs in a fresh interpreter, because other tests in this process have loaded the engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
SCRIPT = """
import json, sys
sys.path[:0] = [{tests!r}, {here!r}]
from conftest import login_as, make_app
from piiint_helpers import csrf_token
from governance.services.pii import detection as pii

def state():
    return [pii.engine_loaded(), "presidio_analyzer" in sys.modules, "spacy" in sys.modules]

app = make_app({url!r}, __import__("pathlib").Path({instance!r}))
out = {{"started": state()}}
client = app.test_client()
client.get("/healthz")
login_as(app, client, "dpo")
assert client.get("/").status_code == 200
assert client.get("/api/v1/customers").status_code == 200
out["non_pii_requests"] = state()
assert client.get("/api/v1/pii/status").json["loaded"] is False
assert client.get("/pii").status_code == 200
out["status_pages"] = state()
res = client.post("/api/v1/pii/analyze", json={{"text": "mail ann@example.com"}},
                  headers={{"X-CSRFToken": csrf_token(client)}})
assert res.status_code == 200 and res.json["findings"], res.json
out["first_analysis"] = state()
print("RESULT " + json.dumps(out))
"""


def test_no_model_is_loaded_before_the_first_pii_call(database_url: str, tmp_path: Path) -> None:
    script = SCRIPT.format(
        tests=str(TESTS),
        here=str(Path(__file__).resolve().parent),
        url=database_url,
        instance=str(tmp_path / "instance"),
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    nothing = [False, False, False]
    assert result["started"] == nothing
    assert result["non_pii_requests"] == nothing
    assert result["status_pages"] == nothing
    assert result["first_analysis"] == [True, True, True]
