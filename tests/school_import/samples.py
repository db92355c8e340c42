"""The sample files, read and imported as the admin page does."""

from pathlib import Path

from accounts.models import User
from cedarheights.school_import.reading import Rows, Upload, rows_read
from cedarheights.school_import.run import ImportReport, school_import_run

SAMPLES = Path(__file__).resolve().parents[2] / "cedarheights" / "school_import" / "samples"


def sample(name: str) -> Upload:
    return Upload(name=name, content=(SAMPLES / name).read_bytes())


def rows_of(*names: str) -> Rows:
    return rows_read(uploads=[sample(name) for name in names])


def run(*names: str, actor: User, commit: bool = True) -> ImportReport:
    return school_import_run(rows=rows_of(*names), actor=actor, commit=commit)
