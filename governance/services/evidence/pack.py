"""The evidence pack: one ZIP an auditor takes away (issue 18).

It holds the chosen PDF reports, the signed audit export (JSON Lines, verifiable offline with
``python -m audit verify``), the checkpoint signing key's public half, the policy files in
force, and ``manifest.json``: the SHA-256 and size of every other file, when and by whom the
pack was made, and the newest signed checkpoint. ``manifest.sig`` is the Ed25519 signature of
``manifest.json``'s exact bytes by the same key that signs the log's checkpoints, so::

    openssl pkeyutl -verify -pubin -inkey audit-public-key.pem -rawin \\
        -in manifest.json -sigfile manifest.sig

(or ``Ed25519PublicKey.verify``) proves the manifest, and its hashes prove each file. The
download is itself recorded in the audit log (``evidence.pack``) with the manifest's hash.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from datetime import datetime
from typing import Any

from governance.context import Call
from governance.errors import NotFound, ValidationError
from governance.policyfiles import POLICY_DIR
from governance.services.auditlog import views as audit_views
from governance.services.auditlog.append import rfc3339
from governance.services.evidence import policy_files

MANIFEST_FORMAT = "governance-evidence-pack/v1"


def _audit_trail(call: Call, start: datetime, end: datetime, database_url: str) -> bytes:
    from governance.services.evidence.audit_trail import audit_trail_pdf

    return audit_trail_pdf(call, start, end)


def _inventory(call: Call, start: datetime, end: datetime, database_url: str) -> bytes:
    from governance.services.evidence.inventory import data_inventory_pdf

    return data_inventory_pdf(call, database_url)


def _pii(call: Call, start: datetime, end: datetime, database_url: str) -> bytes:
    from governance.services.pii.review import discovery_pdf

    return discovery_pdf(call)


def _consent(call: Call, start: datetime, end: datetime, database_url: str) -> bytes:
    from governance.services.consent.report import consent_report_pdf

    return consent_report_pdf(call, start, end)


def _retention(call: Call, start: datetime, end: datetime, database_url: str) -> bytes:
    from governance.services.retention.report import retention_pdf

    return retention_pdf(call, start, end)


def _breach_register(call: Call, start: datetime, end: datetime, database_url: str) -> bytes:
    from governance.services.breach.documents import breach_register

    return breach_register(call)


def _backup_verification(call: Call, start: datetime, end: datetime, database_url: str) -> bytes:
    from governance.services.backups.report import verification_pdf

    return verification_pdf(call)


Builder = Callable[[Call, datetime, datetime, str], bytes]
# Every PDF the server makes, by name: (file name, builder). Others add theirs here.
REPORTS: dict[str, tuple[str, Builder]] = {
    "audit-trail": ("audit-trail.pdf", _audit_trail),
    "data-inventory": ("data-inventory.pdf", _inventory),
    "pii-discovery": ("pii-discovery.pdf", _pii),
    "consent": ("consent.pdf", _consent),
    "retention": ("retention.pdf", _retention),
    "breach-register": ("breach-register.pdf", _breach_register),
    "backup-verification": ("backup-verification.pdf", _backup_verification),
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build(
    call: Call, reports: list[str], start: datetime, end: datetime, database_url: str
) -> tuple[bytes, dict[str, Any]]:
    """The pack's ZIP bytes and its manifest (the caller commits the audit entries).

    Raises ValidationError for an unknown report name or an empty period; a report that
    cannot be made yet (no PII scan) is listed in the manifest as ``skipped`` with the reason.
    """
    unknown = sorted(set(reports) - set(REPORTS))
    if unknown:
        raise ValidationError(
            "unknown report", [{"field": "reports", "message": ", ".join(unknown)}]
        )
    if end <= start:
        raise ValidationError("bad period", [{"field": "to", "message": "must be after from"}])
    contents: dict[str, bytes] = {}
    skipped: dict[str, str] = {}
    for name in reports:
        filename, builder = REPORTS[name]
        try:
            contents[f"reports/{filename}"] = builder(call, start, end, database_url)
        except NotFound as exc:  # nothing to report yet (no PII scan has run)
            skipped[name] = exc.detail
    spool, count = audit_views.export_file(call, call.now())
    with spool:
        contents["audit/audit-export.jsonl"] = spool.read()
    contents["audit/audit-public-key.pem"] = audit_views.public_pem(call).encode("ascii")
    for f in policy_files.files():
        contents[f"policies/{f.name}"] = (POLICY_DIR / f.name).read_bytes()
    checkpoints = audit_views.list_checkpoints(call.session, 1)
    manifest = {
        "format": MANIFEST_FORMAT,
        "generated_at": rfc3339(call.now()),
        "generated_by": call.actor.name or call.actor.id,
        "period": {"from": rfc3339(start), "to": rfc3339(end)},
        "audit_entries_exported": count,
        "latest_checkpoint": checkpoints[-1] if checkpoints else None,
        "signing_key": "audit/audit-public-key.pem (Ed25519, the log's checkpoint key)",
        "files": {name: {"sha256": _sha(data), "bytes": len(data)}
                  for name, data in sorted(contents.items())},
        "skipped": skipped,
    }  # fmt: skip
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    signature = call.audit.signing_key.sign(manifest_bytes)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", manifest_bytes)
        archive.writestr("manifest.sig", signature)
        for name, data in sorted(contents.items()):
            archive.writestr(name, data)
    pack = buffer.getvalue()
    call.audit.record(
        call.session, call.actor, "evidence.pack", now=call.now(), resource="reports",
        details={"reports": sorted(reports), "skipped": sorted(skipped),
                 "from": rfc3339(start), "to": rfc3339(end), "bytes": len(pack),
                 "manifest_sha256": _sha(manifest_bytes)},
    )  # fmt: skip
    return pack, manifest
