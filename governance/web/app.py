"""The application class: Flask with a memo of which hooks and views are plain functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask


class GovernanceFlask(Flask):
    """Flask, remembering which hooks and views are plain functions.

    Flask asks ``inspect.iscoroutinefunction`` of every hook and view on every request (about
    ten per request here); the answer never changes for a given function.
    """

    _sync: dict[Callable[..., Any], Callable[..., Any]]

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return self._sync[func]
        except AttributeError:
            self._sync = {}
        except (KeyError, TypeError):
            pass
        made = super().ensure_sync(func)
        try:
            self._sync[func] = made
        except TypeError:  # not hashable: just do not remember it
            pass
        return made
