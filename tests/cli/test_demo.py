"""`changegate demo`: a seeded quarter that every other command can explore."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from changegate.services import ledger_state
from changegate.services.demo_trail import CLOUDTRAIL
from tests.conftest import Result

Cli = Callable[..., Result]
Q3 = (date(2026, 7, 1), date(2026, 9, 30))
HOLIDAYS = {date(2026, 7, 3), date(2026, 9, 7)}  # US: Independence Day observed, Labor Day
STATUSES = {
    "closed": 37,
    "implemented": 3,
    "approved": 3,
    "submitted": 3,
    "cancelled": 2,
    "rejected": 1,
    "draft": 1,
}
EXE = str(Path(sys.executable).parent / "changegate")
ROLES = {"cab", "iso", "security_engineer", "hr", "auditor", "requester", "pipeline"}


def ok_json(result: Result) -> Any:
    assert result.code == 0, result.err
    return json.loads(result.out)


def ok_text(result: Result) -> str:
    assert result.code == 0, result.err
    return result.out


def seeded(cli: Cli) -> list[dict[str, Any]]:
    result = cli("demo", "--seed-only")
    assert result.code == 0, result.err
    return list(ok_json(cli("change", "list", "--json"))["items"])


def details(cli: Cli, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [ok_json(cli("change", "show", row["key"], "--json")) for row in rows]


def moments(change: dict[str, Any]) -> list[datetime]:
    names = ("created_at", "submitted_at", "approved_at", "implemented_at", "closed_at")
    found = [change[n] for n in names] + [a["at"] for a in change["approvals"]]
    found += [r["at"] for r in change["reviews"]]
    return [datetime.fromisoformat(t) for t in found if t]


def test_demo_seeds_a_quarter_of_changes(cli: Cli) -> None:
    rows = seeded(cli)
    assert len(rows) == 50
    assert Counter(r["status"] for r in rows) == STATUSES
    assert Counter(r["type"] for r in rows)["emergency"] == 5
    people = ok_json(cli("user", "list", "--json"))["items"]
    assert len(people) == 13
    assert {role for p in people for role in p["roles"]} == ROLES
    assert all(p["email"].endswith("@casperstudios.example") for p in people)


def test_demo_leaves_an_overdue_emergency_and_a_passing_ledger(cli: Cli) -> None:
    seeded(cli)
    # `overdue` runs on the real clock, weeks after the seeded quarter ended.
    overdue = ok_json(cli("change", "overdue", "--json"))
    assert {(o["key"], o["obligation"]) for o in overdue["items"]} == {
        ("CHG-47", "retroactive approval"),
        ("CHG-47", "post-implementation review"),
    }
    assert (overdue["total"], overdue["offset"]) == (2, 0)
    # A business-day deadline reads as the day it ends, in the calendar's zone.
    table = ok_text(cli("change", "overdue"))
    assert table.count("end of Tue 2026-09-29 (UTC)") == 2, table
    second = ok_json(cli("change", "overdue", "--json", "--limit", "1", "--offset", "1"))
    assert (len(second["items"]), second["total"]) == (1, 2)
    verify = cli("ledger", "verify", "--state", "--json")
    assert verify.code == 0, verify.out
    assert json.loads(verify.out)["ok"] is True
    # The demo's changes, decisions, gate calls and deployments are what the ledger says.
    assert json.loads(verify.out)["state"] == {
        "checked": list(ledger_state.CHECKED),
        "mismatches": [],
    }
    records = [json.loads(line) for line in ok_text(cli("ledger", "export")).splitlines()]
    assert len(records) == json.loads(verify.out)["count"] > 300
    assert all(r["clock_override"] for r in records)


def test_demo_seeds_a_day_of_cloudtrail_with_two_uncovered_console_changes(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded(cli)
    # What the demo's policy file says (this fixture runs the demo under its own policy).
    policy = tmp_path / "demo-policy.yaml"
    policy.write_text(
        json.dumps({"identity": {"local_decisions": "allow"}, "cloudtrail": CLOUDTRAIL})
    )
    monkeypatch.setenv("CHANGEGATE_POLICY", str(policy))
    iso = ("--as", "daniel.okafor@casperstudios.example")
    day = ok_json(cli("trail", "list", "--json", "--limit", "100", *iso))
    # 33 records; kept: the changes, the attempt, and who came in. The pipeline's
    # DescribeStacks, 24 other reads and AWS's own call are counted, not kept.
    assert day["total"] == 7
    kinds = Counter((e["kind"], e["environment"]) for e in day["items"])
    assert kinds == {
        ("read", "production"): 3,  # 2 console sign-ins, the pipeline's OIDC exchange
        ("change", "production"): 2,
        ("change", "staging"): 1,
        ("attempt", "production"): 1,
    }
    # The deploy role's session names an approved change: the pipeline taking its role.
    assert {e["change"] for e in day["items"] if e["actor_kind"] == "pipeline"} == {"CHG-45"}
    uncovered = ok_json(cli("trail", "list", "--uncovered", "--json", *iso))["items"]
    assert [(e["event_name"], e["actor_kind"]) for e in uncovered] == [
        ("AuthorizeSecurityGroupIngress", "person"),
        ("PutBucketVersioning", "person"),
    ]
    found = ok_json(cli("finding", "list", "--json", "--limit", "200", *iso))["items"]
    cm5 = [f["subject"] for f in found if f["rule"] == "CM-5.unauthorised-aws-change"]
    assert sorted(cm5) == sorted(f"aws-event:{e['event_id']}" for e in uncovered)


def check_rules(change: dict[str, Any]) -> None:
    """Ordered, inside the quarter on business days, and segregation of duties held."""
    times = moments(change)
    assert times[0] == min(times), change["key"]
    assert all(Q3[0] <= t.date() <= Q3[1] for t in times), change["key"]
    assert all(t.weekday() < 5 and t.date() not in HOLIDAYS for t in times), change["key"]
    deciders = {(a["approver"], a["version"], a["role"]) for a in change["approvals"]}
    people = {who for who, _, _ in deciders}
    assert change["requester"] not in people
    assert not people & set(change["commit_authors"])
    assert len({(who, version) for who, version, _ in deciders}) == len(deciders)
    if change["closed_at"] and change["approved_at"]:
        assert change["submitted_at"] < change["approved_at"] < change["implemented_at"]
        assert change["implemented_at"] < change["closed_at"]


def check_cases(changes: dict[str, dict[str, Any]]) -> None:
    revised = [c for c in changes.values() if c["version"] >= 2]
    assert len(revised) == 3
    assert all(c["status"] == "closed" for c in revised)
    assert all(
        {(1, "rejected"), (2, "approved")}
        <= {(a["version"], a["decision"]) for a in c["approvals"]}
        for c in revised
    )
    high = changes["CHG-3"]
    assert (high["risk"], high["status"]) == ("high", "closed")
    assert len({a["approver"] for a in high["approvals"] if a["role"] == "cab"}) == 2
    late_pir = changes["CHG-16"]["due"]
    assert late_pir["pir_recorded_at"] > late_pir["pir"]
    late_retro = changes["CHG-30"]["due"]
    assert late_retro["retro_approved_at"] > late_retro["retro_approval"]
    on_time = [
        c
        for c in changes.values()
        if c["type"] == "emergency"
        and c["due"]["pir"]
        and c["due"]["pir_recorded_at"]
        and c["due"]["pir_recorded_at"] < c["due"]["pir"]
        and c["due"]["retro_approved_at"] < c["due"]["retro_approval"]
    ]
    assert len(on_time) == 2
    assert changes["CHG-48"]["awaiting"] == ["1 more CAB approval", "the ISO's approval"]


def test_every_inbox_command_runs_as_printed(cli: Cli) -> None:
    """What `status` tells each person to do works when pasted: no missing --as, no bad input."""
    seeded(cli)
    people = ok_json(cli("user", "list", "--json"))["items"]
    ran = 0
    for person in people:
        shown = ok_text(cli("status", "--as", person["email"]))
        items = ok_json(cli("status", "--as", person["email"], "--json"))["you"]["items"]
        commands = re.findall(r"changegate (.*? --as \S+)", shown)
        wanted = sum(1 + (i["alternative"] is not None) for i in items)
        assert len(commands) == wanted, shown
        for command in commands:
            assert command.endswith(f"--as {person['email']}"), command
            result = cli(*shlex.split(command))
            # Refused by a rule (1) is an answer; bad input or a crash (2) is a broken hint.
            assert result.code in (0, 1), (command, result.err)
            ran += 1
    assert ran >= 10


def test_demo_changes_follow_the_rules_and_cover_the_cases(cli: Cli) -> None:
    changes = {c["key"]: c for c in details(cli, seeded(cli))}
    for change in changes.values():
        check_rules(change)
    check_cases(changes)


def test_demo_refuses_a_database_with_data_unless_reset(cli: Cli) -> None:
    seeded(cli)
    before = ok_json(cli("ledger", "verify", "--json"))
    again = cli("demo", "--seed-only")
    assert again.code == 2
    assert again.out == ""
    assert len(again.err.strip().splitlines()) == 1
    assert "already has 13 users and 50 changes" in again.err
    assert "--reset" in again.err
    assert ok_json(cli("ledger", "verify", "--json")) == before
    reset = cli("demo", "--seed-only", "--reset")
    assert reset.code == 0, reset.err
    rows = ok_json(cli("change", "list", "--json"))["items"]
    assert [r["key"] for r in rows] == [f"CHG-{n}" for n in range(1, 51)]
    # Same plan, same simulated times: the reseeded ledger is the same chain, hash for hash.
    assert ok_json(cli("ledger", "verify", "--json")) == before


def test_demo_refuses_a_database_with_only_people(cli: Cli) -> None:
    added = cli("user", "add", "ops@example.com", "--name", "Ops", "--role", "admin")
    assert added.code == 0, added.err
    refused = cli("demo", "--seed-only")
    assert refused.code == 2
    assert "already has 1 user and 0 changes" in refused.err
    assert ok_json(cli("change", "list", "--json"))["items"] == []


def test_demo_without_a_database_url_uses_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from changegate.cli.main import run

    monkeypatch.chdir(tmp_path)
    for name in (
        "CHANGEGATE_DATABASE_URL",
        "CHANGEGATE_CLOCK",
        "CHANGEGATE_POLICY",
        "CHANGEGATE_ALLOW_CLOCK_OVERRIDE",
        "CHANGEGATE_SIGNING_KEY",
    ):
        monkeypatch.delenv(name, raising=False)

    def demo_then_read(*args: str) -> tuple[str, list[Any], dict[str, Any]]:
        monkeypatch.delenv("CHANGEGATE_DATABASE_URL", raising=False)
        assert run(["demo", *args]) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        monkeypatch.setenv("CHANGEGATE_DATABASE_URL", "sqlite:///changegate-demo.db")
        assert run(["change", "list", "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)["items"]
        assert run(["ledger", "verify", "--json"]) == 0
        return out, rows, json.loads(capsys.readouterr().out)

    out, rows, ledger = demo_then_read("--seed-only")
    assert (tmp_path / "changegate-demo.db").is_file()
    assert "export CHANGEGATE_DATABASE_URL=sqlite:///changegate-demo.db" in out
    assert len(rows) == 50
    assert "replacing" not in out
    # A second run starts the file over instead of refusing or adding another 50, and says so.
    out, again, ledger_again = demo_then_read("--seed-only")
    assert "replacing changegate-demo.db from the last demo run" in out
    assert len(again) == 50
    assert ledger_again == ledger


def _start_demo(cwd: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    """`changegate demo --port P` in `cwd`, as `make demo PORT=P` runs it; (process, banner)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANGEGATE_")}
    proc = subprocess.Popen(
        [EXE, "demo", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline() if proc.stdout else ""
        lines.append(line)
        if "changegate API on" in line or (not line and proc.poll() is not None):
            break
    text = "".join(lines)
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health")
            break
        except httpx.ConnectError:
            time.sleep(0.1)
    return proc, text


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def test_demo_serves_the_api_and_its_banner_works_as_printed(tmp_path: Path) -> None:
    """Seeds, prints tokens and commands, serves; every printed command runs as printed."""
    port = free_port()
    proc, text = _start_demo(tmp_path, port)
    try:
        token = re.search(r"^\s+pipeline\s+\S+\s+(cgt_\S+)$", text, re.M)
        assert token, text
        me = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/me",
            headers={"Authorization": f"Bearer {token.group(1)}"},
        )
        assert me.status_code == 200 and me.json()["roles"] == ["pipeline"]
        gates = [line.strip() for line in text.splitlines() if "changegate gate check" in line]
        verdicts = [line.rsplit("# ", 1)[1].split(":")[0] for line in gates]
        assert verdicts == ["ALLOWED", "DENIED"], text
        home = str(Path(sys.executable).parents[1])
        ran = [
            subprocess.run(  # as printed, in a shell with no venv active
                ["bash", "-c", line],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                check=False,
            )
            for line in gates
        ]
        assert [r.returncode for r in ran] == [0, 1], [r.stdout + r.stderr for r in ran]
        assert ran[0].stdout.startswith("ALLOWED") and ran[1].stdout.startswith("DENIED")
        # Denied for exactly what the banner says: CM-2 and CM-4.
        failing = [
            line.split()[1] for line in ran[1].stdout.splitlines() if line.strip().startswith("NO ")
        ]
        assert failing == ["CM-2:", "CM-4:"], ran[1].stdout
        steps = text.split("What to try next")[1].split("API tokens")[0].splitlines()[1:]
        script = "\n".join(["set -e", f"cd {tmp_path}", *[s.strip() for s in steps if s.strip()]])
        script = script.replace(".venv/bin/activate", f"{home}/bin/activate")
        walked = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, check=False, timeout=300
        )
        assert walked.returncode in (0, 1), walked.stdout[-2000:] + walked.stderr[-2000:]
        assert "Traceback" not in walked.stderr and "internal error" not in walked.stderr
    finally:
        _stop(proc)


def test_a_taken_port_is_refused_before_the_database_is_touched(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHANGEGATE_")}
        result = subprocess.run(
            [EXE, "demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"error: port {port} on 127.0.0.1 is already in use; choose "
        "another with --port (make demo PORT=8001)\n"
    )
    assert not (tmp_path / "changegate-demo.db").exists()


def test_a_second_demo_never_reseeds_under_a_running_one(tmp_path: Path) -> None:
    port = free_port()
    proc, _ = _start_demo(tmp_path, port)
    try:
        before = (tmp_path / "changegate-demo.db").stat().st_mtime_ns
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHANGEGATE_")}
        again = subprocess.run(
            [EXE, "demo", "--seed-only"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert again.returncode == 2 and "a demo is already running" in again.stderr
        assert (tmp_path / "changegate-demo.db").stat().st_mtime_ns == before
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200
    finally:
        _stop(proc)


def test_serve_logs_one_access_line_per_request(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANGEGATE_")}
    env["CHANGEGATE_DATABASE_URL"] = f"sqlite:///{tmp_path}/s.db"
    subprocess.run([EXE, "init"], env=env, check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen(
        [EXE, "serve", "--port", str(port)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v1/health")
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        httpx.get(f"http://127.0.0.1:{port}/api/v1/me")
    finally:
        proc.terminate()
        err, _ = proc.communicate(timeout=30)
    access = [line for line in err.splitlines() if '"GET /api/v1/' in line]
    assert len(access) == 2 and "401" in access[1], err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
