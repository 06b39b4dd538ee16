"""Finding and verifying the pinned spaCy NER package before anything loads it.

The English NER ships as the pip package named in ``policies/pii.yaml`` (``ner.package``, pinned in
``pyproject.toml``). Before use, its installed version must equal ``ner.version`` and the SHA-256
of its ``ner/model`` weights file must equal ``ner.sha256``; otherwise the model is refused and
the engine runs in a reported degraded mode. Only the standard library is used here, so the
status page can show the check without importing spaCy.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

from governance.services.pii.detection.policy import NerSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelCheck:
    """Result of checking the NER package: where it is, what it is, and whether it is trusted."""

    package: str
    version: str | None
    path: Path | None
    sha256: str | None
    verified: bool
    reason: str

    def describe(self) -> str:
        """One line for logs and the status page."""
        if self.verified:
            return f"{self.package} {self.version} (ner/model sha256 {self.sha256})"
        return f"none (degraded): {self.reason}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _installed_version(package: str) -> str | None:
    for dist in (package, package.replace("_", "-")):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _data_dir(package: str, version: str) -> Path | None:
    # find_spec on a top-level package locates it without executing its __init__.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    candidate = root / f"{package}-{version}"
    return candidate if (candidate / "config.cfg").is_file() else None


def check_ner_model(settings: NerSettings) -> ModelCheck:
    """Locate the NER package and verify its version and ``ner/model`` SHA-256."""
    version = _installed_version(settings.package)
    if version is None:
        return ModelCheck(settings.package, None, None, None, False, "package not installed")
    if version != settings.version:
        reason = f"installed version {version} is not the pinned {settings.version}"
        return ModelCheck(settings.package, version, None, None, False, reason)
    data_dir = _data_dir(settings.package, version)
    weights = data_dir / "ner" / "model" if data_dir else None
    if data_dir is None or weights is None or not weights.is_file():
        return ModelCheck(settings.package, version, None, None, False, "ner/model file missing")
    digest = _sha256(weights)
    if digest != settings.sha256:
        reason = f"ner/model sha256 {digest} does not match the pinned {settings.sha256}"
        return ModelCheck(settings.package, version, data_dir, digest, False, reason)
    return ModelCheck(settings.package, version, data_dir, digest, True, "verified")


def log_model_check(check: ModelCheck) -> None:
    """Log the outcome: info when verified, a clear warning naming the reason when refused."""
    if check.verified:
        log.info("PII NER model verified: %s", check.describe())
    else:
        log.warning(
            "PII NER model %s refused (%s); PERSON/LOCATION detection for English is OFF "
            "(degraded mode)",
            check.package,
            check.reason,
        )
