# Flask-WTF 1.x CSRF: the names the server uses.
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask
from werkzeug.exceptions import BadRequest
from wtforms import ValidationError as ValidationError

_V = TypeVar("_V", bound=Callable[..., Any] | Blueprint | str)

class CSRFProtect:
    def __init__(self, app: Flask | None = None) -> None: ...
    def init_app(self, app: Flask) -> None: ...
    def protect(self) -> None: ...
    def exempt(self, view: _V) -> _V: ...

class CSRFError(BadRequest): ...

def generate_csrf(secret_key: str | None = None, token_key: str | None = None) -> str: ...
def validate_csrf(
    data: str | None,
    secret_key: str | None = None,
    time_limit: int | None = None,
    token_key: str | None = None,
) -> None: ...
