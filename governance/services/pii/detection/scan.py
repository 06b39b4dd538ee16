"""Batch scanning of many texts: pre-filter, batching and a pool of worker processes.

The parent process reads items lazily, detects each text's language, drops texts the
``Prefilter`` proves cannot hold an enabled entity, and sends chunks of the rest to worker
processes. Each worker builds the engine once (its initializer) and analyses a chunk with
spaCy's ``nlp.pipe``. At most ``2 x workers`` chunks are in flight, so memory stays bounded on
a large store; results come back in input order. A ``Scanner`` keeps its pool for several scans
(one per table and column of a store scan); ``scan_texts`` is the one-shot form.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.services.pii.detection.errors import UnsupportedLanguageError
from governance.services.pii.detection.policy import load_policy
from governance.services.pii.detection.prefilter import Prefilter
from governance.services.pii.detection.results import Finding, detect_language

if TYPE_CHECKING:
    from governance.services.pii.detection.engine import PiiEngine

Item = tuple[Hashable, str | None]
Chunk = list[tuple[Hashable, str | None, str | None]]  # key, language (None: skipped), text
Result = Iterator[tuple[Hashable, list[Finding]]]
_worker_engine: PiiEngine | None = None


def _engine_for(policy_path: str | None) -> PiiEngine:
    if policy_path is None:
        from governance.services.pii.detection.service import get_engine

        return get_engine()
    from governance.services.pii.detection.engine import PiiEngine

    return PiiEngine(load_policy(policy_path))


def _init_worker(policy_path: str | None, ready: Any) -> None:
    # An exception escaping a Pool initializer kills the worker and the pool respawns it
    # forever, so report it through the ready queue instead; the parent raises it.
    global _worker_engine
    try:
        _worker_engine = _engine_for(policy_path)
    except Exception as exc:  # noqa: BLE001 - handed to the parent
        ready.put(exc)
    else:
        ready.put(None)


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
    if _worker_engine is None:
        raise RuntimeError("PII worker has no engine (its initializer failed)")
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


def _merge(chunk: Chunk, results: list[list[Finding]]) -> Result:
    found = iter(results)
    for key, lang, _ in chunk:
        yield key, (next(found) if lang is not None else [])


class Scanner:
    """Worker processes with the engine loaded, reusable for several scans.

    ``workers <= 1`` analyses in the calling process. ``mp_context`` is ``spawn`` by default:
    safe in threaded servers and job runners (a forked child could inherit held locks).
    """

    def __init__(
        self,
        workers: int = 2,
        batch_size: int = 64,
        *,
        policy_path: str | Path | None = None,
        mp_context: str = "spawn",
    ) -> None:
        self.workers = workers
        self.batch_size = batch_size
        self.policy = load_policy(policy_path)
        self.prefilter = Prefilter(self.policy)
        self._path = str(policy_path) if policy_path is not None else None
        self._context = mp_context
        self._pool: Pool | None = None
        self._engine: PiiEngine | None = None
        self.startup_seconds = 0.0

    def start(self) -> Scanner:
        """Start the workers and wait until each has built its engine; re-raises its error."""
        started = time.perf_counter()
        if self.workers <= 1:
            self._engine = _engine_for(self._path)
        elif self._pool is None:
            ctx = multiprocessing.get_context(self._context)
            ready = ctx.SimpleQueue()
            self._pool = ctx.Pool(self.workers, _init_worker, (self._path, ready))
            errors = [ready.get() for _ in range(self.workers)]
            failure = next((e for e in errors if e is not None), None)
            if failure is not None:
                self.close()
                raise failure
        self.startup_seconds = time.perf_counter() - started
        return self

    def check_language(self, language: str | None) -> None:
        """Raise UnsupportedLanguageError unless ``language`` is None or enabled by the policy."""
        if language is not None and language not in self.policy.languages:
            raise UnsupportedLanguageError(
                f"language must be one of {', '.join(self.policy.languages)}"
            )

    def close(self) -> None:
        """Stop the workers."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> Scanner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scan(
        self,
        items: Iterable[Item],
        progress: Callable[[int], None] | None = None,
        language: str | None = None,
    ) -> Result:
        """Yield ``(key, findings)`` for every ``(key, text)`` item, in input order.

        ``language=None`` detects each text's language; ``progress(done)`` is called after each
        chunk. Raises UnsupportedLanguageError for a language the policy does not enable.
        """
        self.check_language(language)
        if self._pool is None and self._engine is None:
            self.start()
        done = 0
        chunks = _chunks(items, self.batch_size, self.prefilter, language)
        for chunk, results in self._results(chunks):
            yield from _merge(chunk, results)
            done += len(chunk)
            if progress:
                progress(done)

    def _results(self, chunks: Iterator[Chunk]) -> Iterator[tuple[Chunk, list[list[Finding]]]]:
        if self._pool is None:
            assert self._engine is not None
            for chunk in chunks:
                yield chunk, _analyze_work(self._engine, _work_of(chunk), self.batch_size)
            return
        pending: deque[tuple[Chunk, AsyncResult[list[list[Finding]]] | None]] = deque()
        for chunk in chunks:
            work = _work_of(chunk)
            job = self._pool.apply_async(_worker_analyze, (work, self.batch_size)) if work else None
            pending.append((chunk, job))
            while len(pending) > 2 * self.workers or (pending and _ready(pending[0][1])):
                yield _collect(pending.popleft())
        while pending:
            yield _collect(pending.popleft())


def _ready(job: AsyncResult[list[list[Finding]]] | None) -> bool:
    return job is None or job.ready()


def _collect(
    entry: tuple[Chunk, AsyncResult[list[list[Finding]]] | None],
) -> tuple[Chunk, list[list[Finding]]]:
    chunk, job = entry
    return chunk, (job.get() if job is not None else [])


def scan_texts(
    items: Iterable[Item],
    workers: int = 2,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
    *,
    language: str | None = None,
    policy_path: str | Path | None = None,
    mp_context: str = "spawn",
) -> Result:
    """Yield ``(key, findings)`` for every ``(key, text)`` item, in input order.

    One-shot ``Scanner``: starts ``workers`` processes (each loads the engine once), scans,
    stops them. Raises PiiPolicyError for a bad policy and UnsupportedLanguageError for a
    ``language`` the policy does not enable.
    """
    scanner = Scanner(workers, batch_size, policy_path=policy_path, mp_context=mp_context)
    scanner.check_language(language)
    with scanner:
        yield from scanner.scan(items, progress, language)
