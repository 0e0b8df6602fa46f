"""The README's walkthrough runs verbatim, as a newcomer would paste it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(
        r"<!-- walkthrough:start -->\s*```bash\n(.*?)```\s*<!-- walkthrough:end -->", text, re.S
    )
    assert block, "README.md lost its walkthrough markers"
    return block.group(1)


def test_readme_walkthrough_runs_verbatim(tmp_path: Path) -> None:
    # The block starts with `source .venv/bin/activate`, relative to the repository root.
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANGEGATE_")}
    env["TMPDIR"] = str(tmp_path)  # where the walkthrough's `mktemp -d` puts its files
    script = "set -euo pipefail\n" + walkthrough()
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "refused with exit 1" in out
    assert "Overdue (2 obligations)" in out
    assert "denied with exit 1" in out and "change is implemented" in out
    assert "2 production changes covered by no deployment, emergency change or waiver" in out
    assert "covered by   emergency change:CHG-2" in out
    assert "1 new drift" in out and "1 declared property of the 1 compared unverifiable" in out
    assert "open findings: exit 1" in out and "suppressed" in out
    assert "disciplinary actions  1 record" in out and "re-performed: exit 1" in out
    assert "ledger ok:" in out and "1 checkpoint matched" in out
    assert "evidence for 2026-Q4 written to evidence-2026-Q4.zip" in out
    assert "evidence ok" in out and "ok: audit re-performed (digest " in out
    assert "sha256-rank/1" in out
    # The last step: Linear and Drive through `changegate sandbox`, with the real clock.
    assert "ENG-1 filed in the local Linear; delivered to http://127.0.0.1:" in out
    assert re.search(r"ENG-1 in the local Linear\n(.*\n)*?  state +Todo\n", out), out[-3000:]
    approvals = re.findall(r"^ +(cab|iso) +approved by (\S+) at (\S+Z)$", out, re.M)
    assert [(role, who) for role, who, _ in approvals] == [
        ("cab", "ben@example.com"),
        ("iso", "iris@example.com"),
    ]
    assert "NO  CM-4: run #2 in staging for 7d3e9f01 passed but is not documented in Google" in out
    assert "denied with exit 1: not yet documented in Google Workspace" in out
    assert re.search(r"^CHG-5/CHG-5-run-2-staging-junit\.xml +report ", out, re.M)
    assert re.search(r"^CHG-5/CHG-5-run-2-staging-summary\.html +summary ", out, re.M)
    assert "ALLOWED: CHG-5 7d3e9f01 to production" in out
    assert "ok  CM-4: passing run #2 in staging (isolated) for 7d3e9f01" in out
    assert "Traceback" not in result.stderr
    [exported] = tmp_path.glob("tmp.*/ledger.jsonl")
    assert exported.read_text().count("\n") > 20
    assert not (ROOT / "walkthrough.db").exists()
