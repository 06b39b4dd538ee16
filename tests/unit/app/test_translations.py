"""The console's languages: the Chinese catalog is complete, its compiled ``.mo`` (committed, so
a fresh clone serves Chinese with no build step) matches its ``.po``, and the catalog holds every
string the code and templates mark (``pybabel extract`` with ``babel.cfg``)."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
CATALOG = ROOT / "governance" / "translations" / "zh_Hans_CN" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "N_": None}


def _po() -> object:
    with (CATALOG / "messages.po").open("rb") as fh:
        return read_po(fh, locale="zh_Hans_CN")


def test_every_message_is_translated_and_keeps_its_placeholders() -> None:
    import re

    catalog = _po()
    for message in catalog:  # type: ignore[attr-defined]
        if not message.id:
            continue
        assert message.string, f"untranslated: {message.id!r}"
        placeholders = sorted(re.findall(r"%\(\w+\)s", message.id))
        assert sorted(re.findall(r"%\(\w+\)s", message.string)) == placeholders, message.id


def test_compiled_catalog_matches_its_source() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, _po())  # type: ignore[arg-type]
    assert compiled.getvalue() == (CATALOG / "messages.mo").read_bytes(), (
        "run: pybabel compile -d governance/translations"
    )


def test_catalog_holds_every_marked_string() -> None:
    method_map = [
        ("governance/**.py", "python"),
        ("governance/console/templates/**.html", "jinja2"),
    ]
    options = {"governance/console/templates/**.html": {"extensions": "jinja2.ext.do"}}
    marked = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(
            str(ROOT),
            method_map,
            options,
            keywords=KEYWORDS,  # type: ignore[arg-type]
        )
    }
    known = {m.id for m in _po() if m.id}  # type: ignore[attr-defined]
    missing = sorted(marked - known)
    assert not missing, f"run pybabel extract + update (README, Languages): {missing[:10]}"
