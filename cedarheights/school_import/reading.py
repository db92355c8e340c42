"""A spreadsheet (CSV or XLSX, through django-import-export's formats) turned into numbered rows of values named
by a preset; a Jackrabbit-style pair (a family sheet and a student sheet sharing a Family ID) joined into one row
per child."""

import csv
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from import_export.formats.base_formats import CSV
from openpyxl import load_workbook
from tablib.exceptions import InvalidDimensions

from cedarheights.errors import InvalidInput
from cedarheights.school_import.columns import GENERIC, JACKRABBIT_FAMILY_HEADERS, Preset, preset_for

MAX_ROWS = 5000  # a school's whole roll, several times over; more is not a school's file
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes


@dataclass(frozen=True)
class Sheet:
    title: str
    headers: list[str]
    rows: list[dict[str, Any]]  # by header; the first data row is the spreadsheet's row 2


@dataclass(frozen=True)
class Row:
    number: int  # as the spreadsheet numbers it (the headers are row 1)
    values: dict[str, Any]  # by value name (columns.Preset.headers)


@dataclass(frozen=True)
class Rows:
    preset: Preset
    rows: list[Row]
    unknown_headers: list[str]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _sheet(title: str, table: list[list[Any]]) -> Sheet:
    if not table:
        raise InvalidInput(f"{title} is empty: the first row names the columns.", fields={"file": ["Empty."]})
    headers = [str(cell).strip() if cell is not None else "" for cell in table[0]]
    rows = [dict(zip(headers, cells, strict=False)) for cells in table[1:]]
    # Trailing empty rows (a spreadsheet's formatting) are not rows; an empty row between two is numbered as it is.
    while rows and all(_blank(value) for value in rows[-1].values()):
        rows.pop()
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"{title} has {len(rows)} rows; at most {MAX_ROWS} in one import.", fields={"file": []})
    return Sheet(title=title, headers=[h for h in headers if h], rows=rows)


def _sheets(upload: Upload) -> list[Sheet]:
    if len(upload.content) > MAX_BYTES:
        raise InvalidInput("The file is over 5 MB: split it in two.", fields={"file": ["Over 5 MB."]})
    name = upload.name.lower()
    if name.endswith(".csv"):
        try:
            text = upload.content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InvalidInput(
                f"{upload.name} is not UTF-8 text: save it as “CSV UTF-8”.", fields={"file": ["Not UTF-8."]}
            ) from error
        try:
            dataset = CSV().create_dataset(text)
        except InvalidDimensions as error:
            raise InvalidInput(
                f"{upload.name} has a row with more cells than the header row (a trailing comma?).",
                fields={"file": ["A row longer than the headers."]},
            ) from error
        except csv.Error as error:  # a field over the csv module's size limit, most often an unclosed quote
            raise InvalidInput(
                f"{upload.name} is not a readable CSV file ({error}): check its quotes.",
                fields={"file": ["Not readable as CSV."]},
            ) from error
        return [_sheet(upload.name, [list(dataset.headers or []), *[list(row) for row in dataset]])]
    if name.endswith(".xlsx"):
        try:
            workbook = load_workbook(BytesIO(upload.content), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
            raise InvalidInput(f"{upload.name} is not an XLSX workbook.", fields={"file": ["Not XLSX."]}) from error
        return [
            _sheet(f"{upload.name}, sheet {ws.title}", [list(r) for r in ws.iter_rows(values_only=True)])
            for ws in workbook.worksheets
        ]
    raise InvalidInput("Upload a .csv or .xlsx file.", fields={"file": ["Only .csv and .xlsx."]})


def _is_family_sheet(sheet: Sheet) -> bool:
    return "Family ID" in sheet.headers and "First Name" not in sheet.headers


def _joined(students: Sheet, families: Sheet) -> Sheet:
    """Each child's row with their family's columns, by Family ID; a child whose family is missing keeps the id,
    and the row reports the missing guardian."""
    by_id = {str(row.get("Family ID") or "").strip(): row for row in families.rows}
    family_headers = [h for h in families.headers if h in JACKRABBIT_FAMILY_HEADERS and h != "Family ID"]
    rows = []
    for row in students.rows:
        family = by_id.get(str(row.get("Family ID") or "").strip(), {})
        rows.append({**row, **{h: family.get(h) for h in family_headers}})
    return Sheet(title=students.title, headers=[*students.headers, *family_headers], rows=rows)


def rows_read(*, uploads: list[Upload]) -> Rows:
    """The rows to import from one file (a sheet, or a workbook with a family sheet and a student sheet) or two
    (a family CSV and a student CSV)."""
    sheets = [sheet for upload in uploads for sheet in _sheets(upload) if sheet.headers]
    families = [sheet for sheet in sheets if _is_family_sheet(sheet)]
    others = [sheet for sheet in sheets if not _is_family_sheet(sheet)]
    if len(others) != 1 or len(families) > 1:
        raise InvalidInput(
            "Import one sheet of rows at a time, or a family sheet with its student sheet (Jackrabbit's layout).",
            fields={"file": ["One sheet, or a family sheet and a student sheet."]},
        )
    sheet = _joined(others[0], families[0]) if families else others[0]
    preset = GENERIC if families else preset_for(sheet.headers)
    missing = [preset.header_of(name) for name in preset.required if preset.header_of(name) not in sheet.headers]
    if missing:
        raise InvalidInput(
            f"{sheet.title} has no column {', '.join(missing)} ({preset.label}).",
            fields={"file": [f"Missing column: {header}" for header in missing]},
        )
    rows = [
        Row(number=index + 2, values={preset.headers[h]: value for h, value in row.items() if h in preset.headers})
        for index, row in enumerate(sheet.rows)
        if not all(_blank(value) for value in row.values())
    ]
    unknown = [header for header in sheet.headers if header not in preset.headers]
    return Rows(preset=preset, rows=rows, unknown_headers=unknown)
