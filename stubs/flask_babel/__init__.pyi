# The part of Flask-Babel 4 the server uses (the package ships no type information).
from collections.abc import Callable
from typing import Any

from babel.core import Locale
from flask import Flask

class Babel:
    def __init__(
        self,
        app: Flask | None = ...,
        date_formats: Any = ...,
        configure_jinja: bool = ...,
        *args: Any,
        locale_selector: Callable[[], str | None] | None = ...,
        **kwargs: Any,
    ) -> None: ...

class LazyString:
    def __str__(self) -> str: ...
    def __html__(self) -> str: ...

def get_locale() -> Locale | None: ...
def gettext(string: str, **variables: Any) -> str: ...
def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str: ...

# A LazyString acts as a str wherever one is taken (WTForms labels, Jinja): typed as str here.
def lazy_gettext(string: str, **variables: Any) -> str: ...
def refresh() -> None: ...
