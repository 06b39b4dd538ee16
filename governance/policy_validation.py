"""Every file under ``policies/`` checked by its own validator, at start and on demand.

Each policy file has exactly one validator, registered by the module that owns the rules::

    @validator("retention.yaml")
    def check(policy_dir: Path) -> None:
        load_rules(policy_dir)  # raises PolicyFileError naming the file and line

``validate_all`` runs them all and also reports any file in the directory that nobody validates
(a rules file the server ignores is a rules file someone believes is in force). The server runs
``check_all`` at start, so a bad file stops it with a message naming the file and line;
``governance policy validate [DIR]`` prints every problem and exits 1 when there is one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from governance.policyfiles import POLICY_DIR

Validator = Callable[[Path], None]

VALIDATORS: dict[str, Validator] = {}

# Modules whose import registers validators (each domain adds its own module here).
VALIDATOR_MODULES: tuple[str, ...] = (
    "governance.policy_validators",
    "governance.services.retention.policy_checks",
    "governance.services.breach.policy_checks",
)

# Files in the directory that are not rules (read by people, not by the server).
IGNORED = frozenset({"README.md"})


def validator(filename: str) -> Callable[[Validator], Validator]:
    """Register ``fn`` as the validator of ``policies/<filename>``."""

    def wrap(fn: Validator) -> Validator:
        if filename in VALIDATORS and VALIDATORS[filename] is not fn:
            raise RuntimeError(f"two validators for policies/{filename}")
        VALIDATORS[filename] = fn
        return fn

    return wrap


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the policy directory: the file and what is wrong with it."""

    file: str
    message: str

    def __str__(self) -> str:
        return f"policies/{self.file}: {self.message}"


def _load_modules() -> None:
    for name in VALIDATOR_MODULES:
        importlib.import_module(name)


def validate_all(policy_dir: Path | None = None) -> list[Problem]:
    """Check every policy file in ``policy_dir`` (default: the repository's ``policies/``)."""
    _load_modules()
    directory = policy_dir or POLICY_DIR
    problems: list[Problem] = []
    present = {p.name for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")}
    for name in sorted(present - set(VALIDATORS) - IGNORED):
        problems.append(Problem(name, "no validator knows this file; the server would ignore it"))
    for name, check in sorted(VALIDATORS.items()):
        if name not in present:
            problems.append(Problem(name, "missing (the server needs it)"))
            continue
        try:
            check(directory)
        except Exception as exc:  # whatever a validator raises, the file is wrong
            message = str(exc)
            prefix = f"policies/{name}: "
            problems.append(Problem(name, message.removeprefix(prefix) or type(exc).__name__))
    return problems


_checked: set[tuple[tuple[str, int, int], ...]] = set()


def check_all(policy_dir: Path | None = None) -> None:
    """Raise ``ValueError`` listing every problem (start-up uses it to refuse to serve).

    A directory whose files (names, sizes, modification times) were already found good in this
    process is not checked again: tests and reloads build many apps over one directory.
    """
    directory = policy_dir or POLICY_DIR
    stamp = tuple(
        sorted(
            (p.name, p.stat().st_size, p.stat().st_mtime_ns)
            for p in directory.iterdir()
            if p.is_file()
        )
    )
    if stamp in _checked:
        return
    problems = validate_all(directory)
    if problems:
        raise ValueError("; ".join(str(p) for p in problems))
    _checked.add(stamp)
