"""The house explains itself, and what it says stays true."""

from __future__ import annotations

import re
from pathlib import Path

from changegate.db import schema

ROOT = Path(__file__).resolve().parents[1]


def test_contributing_names_only_paths_that_exist() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    paths = set(re.findall(r"`((?:src|tests|bench|docs)/[\w./-]+)`", text))
    assert len(paths) > 25
    missing = sorted(p for p in paths if not (ROOT / p.rstrip("/")).exists())
    assert missing == []


def test_the_schema_head_constant_is_alembics_head() -> None:
    assert schema.alembic_head() == schema.HEAD


def test_make_demo_installs_only_the_runtime_and_make_test_the_dev_tools(tmp_path: Path) -> None:
    import subprocess

    venv = tmp_path / "venv"

    def plan(target: str) -> str:
        done = subprocess.run(
            ["make", "-n", target, f"VENV={venv}"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            check=True,
        )
        return done.stdout

    demo, test = plan("demo"), plan("test")
    assert "pip install --quiet -e ." in demo and "[dev]" not in demo
    assert "demo --host 127.0.0.1 --port 8000" in demo
    assert "'.[dev]'" in test and "ruff format --check" in test and "pytest" in test
    assert (
        "--port 8001"
        in subprocess.run(
            ["make", "-n", "demo", f"VENV={venv}", "PORT=8001"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            check=True,
        ).stdout
    )


def _imported_packages(root: Path) -> set[str]:
    import ast
    import sys

    found = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names} - {"changegate"}


def test_every_package_the_code_imports_is_a_declared_dependency() -> None:
    """A package installed by hand here but not declared fails on a fresh clone."""
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        re.split(r"[<>=\[; ]", spec, maxsplit=1)[0].lower().replace("_", "-")
        for spec in project["dependencies"]
    }
    owners = packages_distributions()
    imported = _imported_packages(ROOT / "src" / "changegate")
    assert len(imported) > 10
    undeclared = {
        name: owners.get(name)
        for name in imported
        if not {d.lower().replace("_", "-") for d in owners.get(name, [name])} & declared
    }
    assert undeclared == {}
