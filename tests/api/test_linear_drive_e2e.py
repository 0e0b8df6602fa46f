"""Issue 15's acceptance as one story, on both databases: Linear as the front door and Google
Drive as the filing cabinet, with changegate deciding in between. The local Linear
(changegate/sandbox/linear.py, every operation executed against Linear's pinned schema) and the
local Drive v3 over TLS (changegate/sandbox/drive.py) are the peers; deliveries are signed as
Linear signs them; the worker is `changegate worker --once`; the run is filed by `test record
--upload`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from changegate import bootstrap
from changegate.bootstrap import App
from changegate.config import Settings
from changegate.sandbox.drive import FakeDrive, evidence_drive
from changegate.sandbox.linear import API_KEY, FakeLinear
from tests.api.conftest import Api
from tests.api.test_linear_hook import (
    REQUESTER,
    SECRET,
    TEMPLATE,
    WAIVER,
    Clock,
    Front,
    approve,
    changes,
)
from tests.cli.test_workspace_cli import gate, record, runs
from tests.conftest import LOCAL_DECISIONS_POLICY, Result
from tests.integrations.fake_github import generate_private_key_pem

Cli = Callable[..., Result]


@pytest.fixture
def linear() -> Iterator[FakeLinear]:
    with FakeLinear() as fake:
        yield fake
    assert not fake.errors, f"the local Linear refused what changegate sent: {fake.errors!r}"


@pytest.fixture
def drive(tmp_path: Path) -> Iterator[FakeDrive]:
    with evidence_drive(tmp_path, generate_private_key_pem()) as fake:
        yield fake
    assert not fake.errors, f"the local Drive refused what changegate sent: {fake.errors!r}"


@pytest.fixture
def app(
    cli: Cli,
    linear: FakeLinear,
    drive: FakeDrive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[App]:
    """One deployment's environment, read by the API (`tests.api.conftest.api` builds on this
    app) and by every `changegate` command the test runs: both peers and a policy naming the
    shared drive."""
    policy = tmp_path / "linear-drive-policy.yaml"
    policy.write_text(LOCAL_DECISIONS_POLICY + f"workspace:\n  shared_drive: {drive.shared}\n")
    env = {
        "CHANGEGATE_POLICY": str(policy),
        "CHANGEGATE_LINEAR_API_KEY": API_KEY,
        "CHANGEGATE_LINEAR_WEBHOOK_SECRET": SECRET,
        "CHANGEGATE_LINEAR_URL": linear.url,
        "CHANGEGATE_GOOGLE_CREDENTIALS": str(drive.key_file),
        "CHANGEGATE_GOOGLE_DRIVE_URL": drive.url,
        "CHANGEGATE_GOOGLE_CA_CERTS": str(drive.ca_path),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    built = bootstrap.build(Settings.from_env())
    yield built
    built.engine.dispose()


@pytest.fixture
def front(api: Api, linear: FakeLinear) -> Front:
    return Front(api, linear, Clock())


def worker(cli: Cli) -> None:
    done = cli("worker", "--once", "--worker-id", "w1")
    assert done.code == 0, done.err


def test_linear_in_changegate_deciding_drive_filing(
    front: Front, cli: Cli, drive: FakeDrive
) -> None:
    linear = front.linear
    # An incomplete request is answered on its issue; nothing is created.
    partial = TEMPLATE.split("## Rollback plan", maxsplit=1)[0]
    incomplete = linear.add_issue("Rotate payments cert", partial, REQUESTER)
    assert front.deliver(incomplete, "d-1").status_code == 202
    worker(cli)
    assert changes(front) == []
    [complaint] = linear.comments_on(incomplete)
    for wanted in ("## Rollback plan", "## Risk", "## Services", "## Environments"):
        assert wanted in complaint

    # A complete, labelled request becomes CHG-1 with its ticket.
    issue = linear.add_issue("Rotate payments cert", TEMPLATE, REQUESTER)
    assert front.deliver(issue, "d-2").status_code == 202
    worker(cli)
    assert changes(front) == [("CHG-1", "submitted", issue["identifier"], 1)]

    # CAB and ISO approve in changegate, as themselves; the issue shows it.
    approve(front, "CHG-1")
    worker(cli)
    assert linear.state_of(issue) == "Todo"  # the policy's state for `approved`
    [attachment] = linear.attachments_on(issue)
    approvals = {a["role"]: a for a in attachment["metadata"]["approvals"]}
    assert sorted(approvals) == ["cab", "iso"]
    assert all(a["decision"] == "approved" and a["at"].endswith("Z") for a in approvals.values())
    assert (approvals["cab"]["by"], approvals["iso"]["by"]) == (
        "bob@example.com",
        "ivy@example.com",
    )

    # A passing run not yet in Drive does not open the gate; filed by the worker, it does.
    assert record(cli, "CHG-1", "--upload").code == 0
    denied = gate(cli, "CHG-1")
    assert denied.code == 1, denied.out
    assert "is not documented in Google" in denied.out
    assert drive.in_folder("CHG-1") == []
    worker(cli)
    filed = sorted(f.app_properties["changegateRole"] for f in drive.in_folder("CHG-1"))
    assert filed == ["report", "summary"]
    [run] = runs(cli, "CHG-1")
    assert {f["file_id"] for f in run["drive_files"]} == {f.id for f in drive.in_folder("CHG-1")}
    allowed = gate(cli, "CHG-1")
    assert allowed.code == 0, allowed.out
    assert "passing run #1 in staging" in allowed.out

    # An exception request becomes a waiver that CAB and ISO approve jointly.
    exception = linear.add_issue(
        "Appliance without agent", WAIVER, REQUESTER, labels=("exception-request",)
    )
    assert front.deliver(exception, "d-3").status_code == 202
    worker(cli)
    for who, role in (("bob@example.com", "cab"), ("ivy@example.com", "iso")):
        decided = front.api.call(
            who,
            "POST",
            "/api/v1/waivers/WVR-1/approvals",
            json={"role": role, "decision": "approved"},
        )
        assert decided.status_code == 200, decided.text
    shown = cli("waiver", "show", "WVR-1", "--json")
    assert shown.code == 0, shown.err
    assert json.loads(shown.out)["status"] == "active"
    worker(cli)
    [waiver] = linear.attachments_on(exception)
    assert waiver["metadata"]["status"] == "active"
    assert {a["role"] for a in waiver["metadata"]["approvals"]} == {"cab", "iso"}
    assert linear.state_of(exception) == "Done"
