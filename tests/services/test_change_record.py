"""The web app's change list (search and filters, paged in SQL) and one change's whole record."""

from __future__ import annotations

from datetime import timedelta

import pytest

from changegate.bootstrap import App
from changegate.db.change_pages import Search
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.changes import Risk
from changegate.domain.errors import BadInput, NotFound
from changegate.services import changes
from changegate.services.views import change_record, ledger_status
from tests.builders import T0, add_people, make_fields
from tests.conftest import decide_current

ALICE, ROB = "alice@example.com", "rob@example.com"


@pytest.fixture
def org(app: App) -> App:
    add_people(app)
    return app


def _make(app: App, who: str, minutes: int, **fields: object) -> str:
    return app.run(
        lambda ctx: changes.create(ctx, make_fields(**fields)).key,  # type: ignore[arg-type]
        actor=who,
        at=T0 + timedelta(minutes=minutes),
    )


def _keys(
    app: App, search: Search, period: str = "", limit: int = 50, offset: int = 0
) -> list[str]:
    page = app.read(lambda ctx: change_record.search(ctx, search, period, limit, offset))
    return [c.key for c in page.items]


def test_search_filters_combine_and_page_in_sql(org: App) -> None:
    a = _make(org, ALICE, 1, title="Rotate db_primary 50% keys", risk=Risk.HIGH)
    b = _make(org, ROB, 2, affected_services=("billing", "api-gateway"))
    c = _make(org, ALICE, 3, affected_services=("billing-v2",))
    assert _keys(org, Search()) == [c, b, a]  # newest first
    assert _keys(org, Search(text="DB_PRIMARY")) == [a]
    assert _keys(org, Search(text="50%")) == [a]
    assert _keys(org, Search(text="_")) == [a]  # a LIKE wildcard is matched literally
    assert _keys(org, Search(risk="high")) == [a]
    assert _keys(org, Search(service="billing")) == [b]  # one element exactly, not a prefix
    assert _keys(org, Search(requester=ROB.upper())) == [b]
    assert _keys(org, Search(status="draft", requester=ALICE)) == [c, a]
    assert _keys(org, Search(), period="2026-Q4") == [c, b, a]
    assert _keys(org, Search(), period="2026-q3") == []
    assert _keys(org, Search(), limit=2, offset=2) == [a]
    page = org.read(lambda ctx: change_record.search(ctx, Search(), "", 2, 0))
    assert (page.total, len(page.items)) == (3, 2)
    with pytest.raises(BadInput):
        _keys(org, Search(), period="2026-Q5")


def test_a_record_shows_each_version_what_it_changed_and_the_ledger_timeline(org: App) -> None:
    key = _make(org, ALICE, 1)
    at = T0 + timedelta(minutes=2)
    org.run(lambda ctx: changes.submit(ctx, key), actor=ALICE, at=at)
    org.run(
        lambda ctx: decide_current(ctx, key, ApprovalRole.CAB, Decision.APPROVED),
        actor="bob@example.com",
        at=at,
    )
    org.run(lambda ctx: changes.edit(ctx, key, {"scope": "all certificates"}), actor=ALICE, at=at)
    out = org.read(lambda ctx: change_record.record(ctx, key))
    assert [v.version for v in out.versions] == [1, 2]
    assert out.versions[0].changed == []
    assert [(f.field, f.before, f.after) for f in out.versions[1].changed] == [
        ("scope", "api-gateway certificates", "all certificates")
    ]
    assert [(a.version, a.counts) for a in out.change.approvals] == [(1, False)]
    actions = [t.action for t in out.timeline]
    assert actions[0] == "change.created" and "change.submitted" in actions
    assert [t.seq for t in out.timeline] == sorted(t.seq for t in out.timeline)
    assert out.gate_decisions == [] and out.deployments == [] and out.findings == []
    with pytest.raises(NotFound):
        org.read(lambda ctx: change_record.record(ctx, "CHG-999"))


def test_ledger_status_shows_the_head_and_verifies_only_when_asked(org: App) -> None:
    _make(org, ALICE, 1)
    quick = org.read(lambda ctx: ledger_status.status(ctx, verify=False))
    assert quick.head_seq > 0 and len(quick.head_hash) == 64 and quick.verification is None
    full = org.read(lambda ctx: ledger_status.status(ctx, verify=True))
    assert full.verification is not None and full.verification.ok
    assert full.verification.count == quick.head_seq
