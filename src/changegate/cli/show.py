"""Rich rendering of one change for people."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from changegate.cli.output import console, table


def show_change(c: dict[str, Any]) -> None:
    out = console()
    out.print(f"[bold]{c['key']}[/bold]  {c['title']}")
    facts = Table.grid(padding=(0, 2))
    for label, value in (
        ("status", c["status"]),
        ("type", c["type"]),
        ("risk", c["risk"]),
        ("version", f"{c['version']}  {c['version_hash'][:12]}"),
        ("requester", c["requester"]),
        ("ticket", c["ticket"]),
        ("scope", c["scope"]),
        ("impact", c["impact"]),
        ("rollback plan", c["rollback_plan"]),
        ("justification", c["justification"]),
        ("services", ", ".join(c["affected_services"])),
        ("environments", ", ".join(c["environments"])),
        ("commit authors", ", ".join(c["commit_authors"])),
        ("awaiting", ", ".join(c["awaiting"])),
        ("retro approval due", c["due"]["retro_approval"]),
        ("retro approved", c["due"]["retro_approved_at"]),
        ("PIR due", c["due"]["pir"]),
        ("PIR recorded", c["due"]["pir_recorded_at"]),
    ):
        if value:
            facts.add_row(f"[dim]{label}[/dim]", str(value))
    out.print(facts)
    if c["approvals"]:
        table(
            "Decisions",
            ["role", "decision", "by", "version", "counts", "at", "comment"],
            [
                [
                    a["role"],
                    a["decision"],
                    a["approver"],
                    a["version"],
                    "yes" if a["counts"] else "no (older version)",
                    a["at"],
                    a["comment"],
                ]
                for a in c["approvals"]
            ],
        )
