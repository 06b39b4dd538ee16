"""Analysis and scans never touch the network and write no model or suffix-list caches.

A fresh interpreter (and every worker process it spawns) gets an audit hook, through
``sitecustomize``, that records and refuses any DNS lookup, socket connection or urllib request.
HOME, XDG_CACHE_HOME and TMPDIR point into a temporary directory, so any cache written by
spaCy, tldextract or jieba is visible.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

HOOK = """
import os, sys

_LOG = os.environ["PII_NET_LOG"]
_EVENTS = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request"}


def _refuse_network(event, args):
    if event in _EVENTS:
        with open(_LOG, "a") as fh:
            fh.write(f"{os.getpid()} {event}\\n")
        raise OSError("network access refused by the PII offline test")


sys.addaudithook(_refuse_network)
"""

SCRIPT = """
import json, os, socket, sys

from governance.services.pii.detection import analyze, engine_status, scan_texts

if __name__ == "__main__":
    try:  # the hook is live: this lookup must be refused
        socket.getaddrinfo("example.com", 443)
        hook = False
    except OSError:
        hook = True
    os.remove(os.environ["PII_NET_LOG"])
    en = analyze("Email ann@example.co.uk or call +44 20 7946 0958, John Smith", "en")
    zh = analyze("客户王伟手机13800138000，邮箱li@example.cn，网址www.example.com.cn", "zh")
    texts = ["Mail bo@example.org", "身份证11010519491231002X", "nothing here", "IP 8.8.8.8"] * 40
    scanned = list(scan_texts(list(enumerate(texts)), workers=2, batch_size=16))
    print(json.dumps({
        "hook": hook,
        "en": sorted({f.entity_type for f in en}),
        "zh": sorted({f.entity_type for f in zh}),
        "scanned": len(scanned),
        "scan_types": sorted({f.entity_type for _, fs in scanned for f in fs}),
        "verified": engine_status()["ner_model"]["verified"],
    }))
"""


def test_analyze_and_scan_work_offline(tmp_path: Path) -> None:
    hook_dir, home, cache, tmp = (tmp_path / d for d in ("hook", "home", "cache", "tmp"))
    for d in (hook_dir, home, cache, tmp):
        d.mkdir()
    (hook_dir / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
    script = tmp_path / "offline_run.py"
    script.write_text(SCRIPT, encoding="utf-8")
    net_log = tmp_path / "network.log"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(cache),
        "TMPDIR": str(tmp),
        "PYTHONPATH": os.pathsep.join([str(hook_dir), str(ROOT)]),
        "PII_NET_LOG": str(net_log),
    }
    out = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["hook"] is True
    assert not net_log.exists(), net_log.read_text()
    assert report["en"] == ["EMAIL_ADDRESS", "PERSON", "PHONE_NUMBER"]
    assert report["zh"] == ["EMAIL_ADDRESS", "PERSON", "PHONE_NUMBER", "URL"]
    assert report["scanned"] == 160
    assert report["scan_types"] == ["CN_RESIDENT_ID", "EMAIL_ADDRESS", "IP_ADDRESS"]
    assert report["verified"] is True
    # no spaCy/tldextract caches; jieba's dictionary cache went to TMPDIR, quietly
    assert list(home.iterdir()) == [] and list(cache.iterdir()) == []
    assert any(p.name.startswith("jieba") for p in tmp.iterdir())
    assert "prefix dict" not in out.stderr and "Dumping model" not in out.stderr
