"""Services and models import without Flask: the web edge is the only place that loads it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import json, sys
import governance.models
import governance.services.customers.store
web = ("flask", "flask_login", "flask_wtf", "flask_sqlalchemy", "flask_migrate", "werkzeug")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in web)))
"""


def test_store_and_models_import_without_flask() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def test_flask_sqlalchemy_shares_the_models_metadata() -> None:
    from governance.extensions import db
    from governance.models import Customer
    from governance.models.base import Base

    assert db.metadata is Base.metadata
    assert db.metadata.tables["customers"] is Customer.__table__
    assert Base.metadata.naming_convention["pk"] == "pk_%(table_name)s"
