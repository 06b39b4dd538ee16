"""Batch scanning of many texts: pre-filter, batching and a pool of worker processes.

The parent process reads items lazily, detects each text's language, drops texts the
``Prefilter`` proves cannot hold an enabled entity, and sends chunks of the rest to worker
processes. Each worker builds the engine once (its initializer) and analyses a chunk with
spaCy's ``nlp.pipe``. At most ``2 x workers`` chunks are in flight, so memory stays bounded on
a large store; results come back in input order.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import TYPE_CHECKING

from governance.services.pii.findings import Finding, detect_language
from governance.services.pii.policy import load_policy
from governance.services.pii.prefilter import Prefilter

if TYPE_CHECKING:
    from governance.services.pii.engine import PiiEngine

Item = tuple[Hashable, str | None]
Chunk = list[tuple[Hashable, str | None, str | None]]  # key, language (None: skipped), text
_worker_engine: PiiEngine | None = None
_worker_error: BaseException | None = None


def _engine_for(policy_path: str | None) -> PiiEngine:
    if policy_path is None:
        from governance.services.pii.service import get_engine

        return get_engine()
    from governance.services.pii.engine import PiiEngine

    return PiiEngine(load_policy(policy_path))


def _init_worker(policy_path: str | None) -> None:
    # An exception escaping a Pool initializer kills the worker and the pool respawns it
    # forever; keep the error and raise it from the first task instead.
    global _worker_engine, _worker_error
    try:
        _worker_engine = _engine_for(policy_path)
    except Exception as exc:  # noqa: BLE001 - re-raised in _worker_analyze
        _worker_error = exc


def _analyze_work(
    engine: PiiEngine, work: list[tuple[str, str]], batch_size: int
) -> list[list[Finding]]:
    out: list[list[Finding]] = [[] for _ in work]
    for lang in sorted({lang for lang, _ in work}):
        idx = [i for i, (lg, _) in enumerate(work) if lg == lang]
        found = engine.analyze_batch([work[i][1] for i in idx], lang, batch_size)
        for i, findings in zip(idx, found, strict=True):
            out[i] = findings
    return out


def _worker_analyze(work: list[tuple[str, str]], batch_size: int) -> list[list[Finding]]:
    if _worker_error is not None:
        raise _worker_error
    assert _worker_engine is not None, "worker initializer did not run"
    return _analyze_work(_worker_engine, work, batch_size)


def _chunks(
    items: Iterable[Item], size: int, prefilter: Prefilter, language: str | None
) -> Iterator[Chunk]:
    chunk: Chunk = []
    needed = 0
    for key, text in items:
        lang = (language or detect_language(text)) if text else None
        if text and lang and prefilter(text, lang):
            chunk.append((key, lang, text))
            needed += 1
        else:
            chunk.append((key, None, None))
        if needed >= size or len(chunk) >= 8 * size:
            yield chunk
            chunk, needed = [], 0
    if chunk:
        yield chunk


def _work_of(chunk: Chunk) -> list[tuple[str, str]]:
    return [(lang, text) for _, lang, text in chunk if lang is not None and text is not None]


def _merge(chunk: Chunk, results: list[list[Finding]]) -> Iterator[tuple[Hashable, list[Finding]]]:
    found = iter(results)
    for key, lang, _ in chunk:
        yield key, (next(found) if lang is not None else [])


def scan_texts(
    items: Iterable[Item],
    workers: int = 2,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
    *,
    language: str | None = None,
    policy_path: str | Path | None = None,
    mp_context: str = "spawn",
) -> Iterator[tuple[Hashable, list[Finding]]]:
    """Yield ``(key, findings)`` for every ``(key, text)`` item, in input order.

    ``language=None`` detects each text's language. ``workers <= 1`` analyses in this process;
    otherwise a pool of ``workers`` processes (``mp_context``: spawn by default, safe in
    threaded servers) each load the engine once. ``progress(done)`` is called after each chunk.
    Raises PiiPolicyError for a bad policy and UnsupportedLanguageError for a bad ``language``.
    """
    policy = load_policy(policy_path)
    if language is not None and language not in policy.languages:
        from governance.services.pii.errors import UnsupportedLanguageError

        raise UnsupportedLanguageError(f"language must be one of {', '.join(policy.languages)}")
    chunks = _chunks(items, batch_size, Prefilter(policy), language)
    path = str(policy_path) if policy_path is not None else None
    done = 0
    if workers <= 1:
        engine = _engine_for(path)
        for chunk in chunks:
            yield from _merge(chunk, _analyze_work(engine, _work_of(chunk), batch_size))
            done += len(chunk)
            if progress:
                progress(done)
        return
    ctx = multiprocessing.get_context(mp_context)
    with ctx.Pool(workers, initializer=_init_worker, initargs=(path,)) as pool:
        pending: deque[tuple[Chunk, AsyncResult[list[list[Finding]]] | None]] = deque()
        for chunk in chunks:
            work = _work_of(chunk)
            job = pool.apply_async(_worker_analyze, (work, batch_size)) if work else None
            pending.append((chunk, job))
            while len(pending) > 2 * workers or (pending and _ready(pending[0][1])):
                chunk_done, job_done = pending.popleft()
                yield from _merge(chunk_done, job_done.get() if job_done else [])
                done += len(chunk_done)
                if progress:
                    progress(done)
        while pending:
            chunk_done, job_done = pending.popleft()
            yield from _merge(chunk_done, job_done.get() if job_done else [])
            done += len(chunk_done)
            if progress:
                progress(done)


def _ready(job: AsyncResult[list[list[Finding]]] | None) -> bool:
    return job is None or job.ready()
