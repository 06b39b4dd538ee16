"""docs/backup-format.md is enough to decrypt a backup: its Python block (pycryptodome and the
standard library, no ``cryptography``, no server code) is run on files our code wrote."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest

from governance.crypto import LocalKeySource
from governance.crypto.backupfile import encrypt_stream

DOC = Path(__file__).resolve().parents[3] / "docs" / "backup-format.md"


def documented_decrypt() -> Any:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"### Decrypting with a dozen lines.*?```python\n(.*?)```", text, re.S)
    assert block, "docs/backup-format.md has no decryption block"
    code = block.group(1)
    assert len(code.strip().splitlines()) <= 16  # "a dozen lines" (give or take the imports)
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 (our own document)
    return namespace["decrypt"]


@pytest.mark.parametrize("size", [0, 1, 1 << 20, (1 << 20) * 2 + 5])
def test_the_documented_code_decrypts_our_files(tmp_path: Path, size: int) -> None:
    kek = os.urandom(32)
    keys = LocalKeySource({1: os.urandom(32), 2: kek})
    data = os.urandom(size)
    path = tmp_path / "x.backup"
    with path.open("wb") as out:
        encrypt_stream(io.BytesIO(data), out, keys, "20261206T201500Z-abcdef")
    plain = io.BytesIO()
    with path.open("rb") as src:
        documented_decrypt()(src, kek, plain)
    assert plain.getvalue() == data


def test_the_documented_code_refuses_a_truncated_file(tmp_path: Path) -> None:
    kek = os.urandom(32)
    path = tmp_path / "x.backup"
    with path.open("wb") as out:
        encrypt_stream(io.BytesIO(os.urandom(3 << 20)), out, LocalKeySource({1: kek}),
                       "20261206T201500Z-abcdef")  # fmt: skip
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) - (1 << 20) - 20])  # the last chunk gone
    with path.open("rb") as src, pytest.raises(ValueError):  # MAC check: not sealed as final
        documented_decrypt()(src, kek, io.BytesIO())
