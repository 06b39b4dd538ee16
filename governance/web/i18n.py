"""Languages of the console: English and Simplified Chinese with Flask-Babel (gettext catalogs
under ``governance/translations``), chosen by the signed-in person's setting, else the browser's
``Accept-Language`` (RFC 9110 section 12.5.4); dates and numbers formatted per locale (CLDR).

The compiled catalogs (``.mo``) are committed beside their ``.po`` sources, so a fresh clone and
``pip install -e .`` serve Chinese with no build step; ``tests/unit/app/test_translations.py``
fails when a ``.mo`` no longer matches its ``.po``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from babel.numbers import format_decimal
from flask import Flask, g, request
from flask_babel import Babel, get_locale
from markupsafe import Markup, escape

# Catalogs: translations/<locale>/LC_MESSAGES/messages.{po,mo}; Babel parses "zh_CN" as
# zh_Hans_CN and looks for that directory, so the Chinese catalog lives there.
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
# Babel locale -> the BCP 47 tag a page declares in <html lang>.
LANGUAGES = {"en": "en", "zh_CN": "zh-CN"}
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}


def choose_locale() -> str:
    """The person's own setting when signed in, else the best match of ``Accept-Language``."""
    chosen = g.get("locale_setting")
    if chosen is None:
        from flask_login import current_user

        user = getattr(current_user, "user", None)
        chosen = getattr(user, "locale", None)
    if chosen in LANGUAGES:
        return str(chosen)
    best = request.accept_languages.best_match(["en", "zh-CN", "zh", "zh-Hans", "zh-SG"])
    return "zh_CN" if best and best.startswith("zh") else "en"


def html_lang() -> str:
    """The page's language tag (``en``, ``zh-CN``)."""
    locale = get_locale()
    return "zh-CN" if locale is not None and locale.language == "zh" else "en"


def number(value: Any) -> str:
    """A number with the locale's grouping (``12,345``)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, int | float | Decimal):
        return str(value)
    return str(format_decimal(value, locale=str(get_locale())))


def when(value: Any, width: str = "medium") -> str:
    """A timestamp (datetime or ISO 8601 text) in the locale's format, in UTC."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return format_datetime(value, width, tzinfo=UTC, locale=str(get_locale())) + " UTC"


def inline_code(message: Any) -> Markup:
    """A message with ``backticked`` parts shown as code, everything else escaped."""
    parts = str(escape(message)).split("`")
    if len(parts) % 2 == 0:  # unbalanced: show as written
        return Markup(escape(message))
    return Markup("".join(p if i % 2 == 0 else f"<code>{p}</code>" for i, p in enumerate(parts)))


def init_i18n(app: Flask) -> None:
    """Attach Flask-Babel and the template helpers (``_``, ``number``, ``when``, ``html_lang``)."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=choose_locale)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["inline_code"] = inline_code
