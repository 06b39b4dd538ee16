"""Poll the audit log, check the newest signed checkpoint extends the one kept last time."""
import json, pathlib, sys, urllib.request  # usage: audit_monitor.py BASE_URL TOKEN
from audit.checkpoint import Checkpoint, load_public_key_pem, verify_checkpoint
from audit.proofcheck import verify_consistency

base, token, kept = sys.argv[1], sys.argv[2], pathlib.Path("last-checkpoint.json")
def get(path: str) -> bytes:
    ask = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    return urllib.request.urlopen(ask).read()
new = Checkpoint.from_json(json.loads(get("/api/v1/audit/checkpoints"))["items"][-1])
verify_checkpoint(load_public_key_pem(get("/api/v1/audit/public-key")), new)  # signed by the log
old = Checkpoint.from_json(json.loads(kept.read_text())) if kept.exists() else None
if old and old.tree_size < new.tree_size:  # the log must extend what we saw last time
    p = json.loads(get(f"/api/v1/audit/proof/consistency?first={old.tree_size}&second={new.tree_size}"))
    verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash,
                       [bytes.fromhex(h) for h in p["proof"]])  # raises ProofError if not
kept.write_text(json.dumps(new.to_json()))
print("log consistent up to", new.tree_size)
