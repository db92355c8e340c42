"""The header presets: which spreadsheet column holds which value of a row.

A row's values are keyed by the names on the right; a preset maps its headers to them, so an error found on a
value is reported under the header the owner sees in their file.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    headers: dict[str, str]  # spreadsheet header → value name
    required: tuple[str, ...]  # value names that must have a column
    example: dict[str, str]  # the template's example row, by header

    def header_of(self, name: str) -> str:
        return next((header for header, value in self.headers.items() if value == name), name)


def _guardian_headers(prefix: str, number: int) -> dict[str, str]:
    return {
        f"{prefix} {number} First Name": f"guardian{number}_first_name",
        f"{prefix} {number} Last Name": f"guardian{number}_last_name",
        f"{prefix} {number} Email": f"guardian{number}_email",
        f"{prefix} {number} Phone": f"guardian{number}_phone",
    }


LESSON_HEADERS = {
    "Teacher": "teacher",
    "Lesson Day": "lesson_day",
    "Lesson Time": "lesson_time",
    "Lesson Minutes": "lesson_minutes",
    "Lesson Start": "lesson_start",
}

FAMILY_HEADERS = {
    "Family ID": "family_id",
    "Family Name": "family_name",
    "Address": "street",
    "City": "city",
    "Province": "province",
    "Postal Code": "postal_code",
    **_guardian_headers("Guardian", 1),
    **_guardian_headers("Guardian", 2),
}

GENERIC = Preset(
    key="generic",
    label="Cedar Heights template",
    headers={
        "Student ID": "student_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Birthday": "birthday",
        "Instrument": "instrument",
        "Status": "status",
        **FAMILY_HEADERS,
        **LESSON_HEADERS,
    },
    required=("student_id", "first_name", "last_name", "birthday", "instrument", "family_id", "guardian1_email"),
    example={
        "Student ID": "S-9001",
        "First Name": "Ayla",
        "Last Name": "Marchetti",
        "Birthday": "2015-03-14",
        "Instrument": "Piano",
        "Status": "Active",
        "Family ID": "F-9001",
        "Family Name": "Marchetti family",
        "Address": "12 Cedar Street",
        "City": "Toronto",
        "Province": "ON",
        "Postal Code": "M4B 1B3",
        "Guardian 1 First Name": "Sofia",
        "Guardian 1 Last Name": "Marchetti",
        "Guardian 1 Email": "sofia.marchetti@example.org",
        "Guardian 1 Phone": "416-555-0101",
        "Guardian 2 First Name": "Luca",
        "Guardian 2 Last Name": "Marchetti",
        "Guardian 2 Email": "luca.marchetti@example.org",
        "Guardian 2 Phone": "",
        "Teacher": "teacher@example.com",
        "Lesson Day": "Tuesday",
        "Lesson Time": "16:30",
        "Lesson Minutes": "30",
        "Lesson Start": "2026-09-08",
    },
)

# My Music Staff's student export. It has no family id (the first parent's email names the family, and an adult
# student with no parent contact is their own parent, by the student's Email) and no lesson time, so the lesson
# columns are ours, added to the export by the owner.
MY_MUSIC_STAFF = Preset(
    key="mymusicstaff",
    label="My Music Staff student export",
    headers={
        "Student ID": "student_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "student_email",
        "Phone": "student_phone",
        "Birthday": "birthday",
        "Address": "street",
        "Instrument": "instrument",
        "Status": "status",
        "Date Started": "date_started",
        "Inactive Date": "inactive_date",
        **_guardian_headers("Parent Contact", 1),
        **_guardian_headers("Parent Contact", 2),
        **LESSON_HEADERS,
    },
    required=("first_name", "last_name", "birthday", "instrument", "status"),
    example={},
)

TEACHERS = Preset(
    key="teachers",
    label="Teachers",
    headers={
        "Teacher ID": "teacher_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Instruments": "instruments",
        "Availability": "availability",
    },
    required=("teacher_id", "first_name", "last_name", "email", "instruments"),
    example={
        "Teacher ID": "T-1",
        "First Name": "Clara",
        "Last Name": "Wieck",
        "Email": "clara.wieck@example.com",
        "Instruments": "Piano; Voice",
        "Availability": "Mon 15:00-20:00; Wed 15:00-19:00; Sat 09:00-13:00",
    },
)

# Jackrabbit's layout: a family sheet and a student sheet sharing the Family ID; the student sheet's columns are the
# template's own, the family's come from the family sheet.
JACKRABBIT_FAMILY_HEADERS = tuple(FAMILY_HEADERS)

PRESETS = (GENERIC, MY_MUSIC_STAFF, TEACHERS)


def preset_for(headers: list[str]) -> Preset:
    """The preset whose telling header the file has: My Music Staff's parent contacts, start date or a student's
    own email without a family id (after the teachers' instruments); else the template."""
    telling = {"Parent Contact 1 Email", "Parent Contact 1 First Name", "Date Started"}
    if "Instruments" in headers:
        return TEACHERS
    if telling & set(headers) or ("Email" in headers and "Family ID" not in headers):
        return MY_MUSIC_STAFF
    return GENERIC
