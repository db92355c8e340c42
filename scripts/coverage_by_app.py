"""Branch coverage per app from the last measured run (`make test`), and the floors it must not fall below.

Reads the data file named in pyproject.toml ([tool.coverage.run]) through coverage's public API: per file,
`analysis2` (statements, missed) and `branch_stats` (exits per branch line, and those taken). A percentage is
coverage's own: statements run plus branch exits taken, over statements plus branch exits. Exits non-zero when
the total or an app with a floor of its own is below it, unless `--table-only` (the SQLite run of `make test`,
which skips the PostgreSQL tests, is not held to PostgreSQL's figures).

    python scripts/coverage_by_app.py [--table-only]
"""

import sys
from dataclasses import dataclass
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parents[1]
APPS = ("cedarheights", "accounts", "scheduling", "enrollment", "billing")
# About a point under the figures measured when the floors were last set (the end of issue 14, on PostgreSQL, CI):
# total 95.3 %, enrollment/ 97.8 %, billing/ 94.3 % (94.0 %, 94.5 % and 92.3 % at its start). Raise them when
# coverage rises; never lower them to let a change in.
FLOORS = {"total": 94, "enrollment": 96, "billing": 93}


@dataclass
class Counts:
    statements: int = 0
    missed: int = 0
    branches: int = 0
    branches_missed: int = 0

    def add(self, other: "Counts") -> None:
        self.statements += other.statements
        self.missed += other.missed
        self.branches += other.branches
        self.branches_missed += other.branches_missed

    @property
    def percent(self) -> float:
        measured = self.statements + self.branches
        covered = measured - self.missed - self.branches_missed
        return 100.0 * covered / measured if measured else 100.0


def file_counts(cov: coverage.Coverage, filename: str) -> Counts:
    _, statements, _, missed, _ = cov.analysis2(filename)
    exits = cov.branch_stats(filename).values()
    return Counts(
        statements=len(statements),
        missed=len(missed),
        branches=sum(total for total, _ in exits),
        branches_missed=sum(total - taken for total, taken in exits),
    )


def counts_by_app(cov: coverage.Coverage) -> dict[str, Counts]:
    apps = {app: Counts() for app in APPS}
    for filename in cov.get_data().measured_files():
        path = Path(filename).resolve()
        app = path.relative_to(ROOT).parts[0] if path.is_relative_to(ROOT) else None
        if app in apps:  # anything else measured (a test module, a third-party file) is not ours to report
            apps[app].add(file_counts(cov, filename))
    return apps


def table(apps: dict[str, Counts], total: Counts) -> str:
    header = ("app", "statements", "missed", "branches", "br. missed", "cover", "floor")
    rows = [
        (
            name,
            str(counts.statements),
            str(counts.missed),
            str(counts.branches),
            str(counts.branches_missed),
            f"{counts.percent:.1f} %",
            f"{FLOORS[name]} %" if name in FLOORS else "",
        )
        for name, counts in [*apps.items(), ("total", total)]
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        name, *figures = row
        cells = [name.ljust(widths[0]), *(f.rjust(w) for f, w in zip(figures, widths[1:], strict=True))]
        return "  ".join(cells).rstrip()

    rule = "-" * len(line(header))
    return "\n".join([line(header), rule, *map(line, rows[:-1]), rule, line(rows[-1])])


def main() -> int:
    cov = coverage.Coverage(config_file=str(ROOT / "pyproject.toml"))
    cov.load()
    apps = counts_by_app(cov)
    total = Counts()
    for counts in apps.values():
        total.add(counts)
    print(table(apps, total))
    if "--table-only" in sys.argv[1:]:
        return 0
    figures = {**{name: counts.percent for name, counts in apps.items()}, "total": total.percent}
    below = [f"{name} {figures[name]:.1f} % < {floor} %" for name, floor in FLOORS.items() if figures[name] < floor]
    if below:
        print("Coverage below its floor: " + "; ".join(below), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
