"""`evidence sample`: a reproducible audit sample drawn from a package's population, offline.

The population is the package's CSV, pinned by the manifest's SHA-256 (a file that does not
match is refused: sample only what `evidence verify` accepts). A row's key is its first column,
or as many leading columns as it takes to make every row's key unique, joined by "/" (a change's
versions are "CHG-3/1", "CHG-3/2"); the sample is `domain.sampling.draw` over those keys. The
record says everything needed to draw it again by hand: algorithm, seed, key columns, the
population's file, SHA-256 and size, and how the size was chosen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from changegate.domain import sampling
from changegate.domain.errors import BadInput, Refused
from changegate.domain.sampling import Frequency, Risk
from changegate.services.evidence.formats import MANIFEST, population_file
from changegate.services.evidence.reader import PackageReader, Unreadable

AUTO = "auto"


@dataclass(frozen=True)
class Sample:
    population: str
    file: str
    population_sha256: str
    population_size: int
    period: str
    algorithm: str
    seed: str
    key_columns: tuple[str, ...]
    size: int
    size_basis: str
    keys: tuple[str, ...]  # in rank order
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # the sampled rows, in rank order
    evidence: tuple[str, ...]  # the package folders of sampled changes, if the rows name them


def _manifest_entry(reader: PackageReader, population: str) -> tuple[dict[str, Any], str]:
    manifest = reader.json(MANIFEST)
    files = {f["path"]: f for f in manifest.get("files", []) if isinstance(f, dict)}
    path = population_file(population)
    if path not in files:
        names = sorted(
            p.removeprefix("populations/").removesuffix(".csv")
            for p in files
            if p.startswith("populations/") and p.endswith(".csv")
        )
        raise BadInput(f"no population {population!r} in the package; it has: {', '.join(names)}")
    return manifest, str(files[path]["sha256"])


def _sha256(reader: PackageReader, path: str) -> str:
    digest = hashlib.sha256()
    with reader.open(path) as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _rows(reader: PackageReader, path: str) -> Iterator[list[str]]:
    import csv  # noqa: PLC0415
    import io  # noqa: PLC0415

    with reader.open(path) as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        try:
            yield from csv.reader(text)
        except (UnicodeDecodeError, csv.Error):
            raise Unreadable(f"{path}: not a UTF-8 CSV file") from None


def _key_width(rows: Sequence[Sequence[str]], columns: int) -> int:
    for width in range(1, columns + 1):
        keys = {"/".join(r[:width]) for r in rows}
        if len(keys) == len(rows):
            return width
    raise BadInput("the population has identical rows; a sample needs unique keys")


def _size(
    size: str, population: int, days: float, risk: Risk, frequency: Frequency | None
) -> tuple[int, str]:
    if size.strip().lower() == AUTO:
        chosen = frequency or sampling.frequency_of(population, days)
        choice = sampling.auto_size(population, chosen, risk)
        return choice.size, choice.basis
    try:
        n = int(size)
    except ValueError:
        raise BadInput(f"--size must be a whole number or 'auto', not {size!r}") from None
    if not 1 <= n <= 100_000:
        raise BadInput("--size must be between 1 and 100000")
    return min(n, population), f"{n} chosen by the auditor" + (
        f"; the population has only {population}, so all are tested" if n > population else ""
    )


def draw(
    package: Path,
    population: str,
    size: str,
    seed: str,
    risk: Risk = Risk.MODERATE,
    frequency: Frequency | None = None,
) -> Sample:
    """Draw the sample. BadInput for an unknown population, a bad size or seed, an unreadable
    package; Refused if the population file does not match the manifest."""
    sampling.check_seed(seed)
    reader = PackageReader(package)
    try:
        manifest, pinned = _manifest_entry(reader, population)
        path = population_file(population)
        if _sha256(reader, path) != pinned:
            raise Refused(
                "evidence", f"{path} does not match the manifest; run `evidence verify` first"
            )
        every = list(_rows(reader, path))
        if not every:
            raise Unreadable(f"{path}: empty, not even a header row")
        header, *rows = every
        folders = {n.split("/")[1] for n in reader.names if n.startswith("changes/")}
    except Unreadable as exc:
        raise BadInput(str(exc)) from None
    finally:
        reader.close()
    period = manifest.get("period", {})
    start = datetime.fromisoformat(str(period.get("start")))
    end = datetime.fromisoformat(str(period.get("end")))
    n, basis = _size(size, len(rows), (end - start).total_seconds() / 86400, risk, frequency)
    width = _key_width(rows, len(header)) if rows else 1
    by_key = {"/".join(r[:width]): r for r in rows}
    keys = sampling.draw(by_key, n, seed)
    picked = [by_key[k] for k in keys]
    return Sample(
        population=population,
        file=path,
        population_sha256=pinned,
        population_size=len(rows),
        period=str(period.get("name")),
        algorithm=sampling.ALGORITHM,
        seed=seed,
        key_columns=tuple(header[:width]),
        size=n,
        size_basis=basis,
        keys=tuple(keys),
        header=tuple(header),
        rows=tuple(tuple(r) for r in picked),
        evidence=_evidence(header, picked, folders),
    )


def _evidence(
    header: Sequence[str], rows: Sequence[Sequence[str]], folders: set[str]
) -> tuple[str, ...]:
    column = next((i for i, h in enumerate(header) if h in ("key", "change_key")), None)
    if column is None:
        return ()
    seen = dict.fromkeys(r[column] for r in rows if r[column] in folders)
    return tuple(f"changes/{k}/" for k in seen)


def record(s: Sample) -> dict[str, Any]:
    """What an auditor keeps with the sample to draw it again: JSON-ready."""
    return {
        "population": s.population,
        "file": s.file,
        "population_sha256": s.population_sha256,
        "population_size": s.population_size,
        "period": s.period,
        "algorithm": s.algorithm,
        "seed": s.seed,
        "key_columns": list(s.key_columns),
        "size": s.size,
        "size_basis": s.size_basis,
        "keys": list(s.keys),
        "evidence": list(s.evidence),
    }


def write(s: Sample, out: Path) -> None:
    """The sampled rows as CSV (RFC 4180, the population's header) at `out`, and the record
    as JSON beside it (`out` with the suffix .json). BadInput if either cannot be written."""
    import csv  # noqa: PLC0415
    import json  # noqa: PLC0415

    try:
        with out.open("x", encoding="utf-8", newline="") as handle:
            rows = csv.writer(handle, lineterminator="\r\n")
            rows.writerow(s.header)
            rows.writerows(s.rows)
        with out.with_suffix(".json").open("x", encoding="utf-8") as handle:
            json.dump(record(s), handle, indent=2, ensure_ascii=False)
            handle.write("\n")
    except OSError as exc:
        raise BadInput(f"cannot write {exc.filename}: {exc.strerror}") from None
