"""Writes the sample spreadsheets beside this file, the same bytes every run (`python -m
cedarheights.school_import.samples.make_samples`): the owner tries them on the import page, the tests import them.

- teachers.csv: 12 teachers, their instruments and weekly hours (import it first: the other files name them);
- my_music_staff_500.csv: 500 students in My Music Staff's export layout (siblings, adults, trials, inactive);
- template_500.csv: 500 students in our template;
- template_bad_rows.csv: 30 rows of the template, 20 of them wrong, each in one column (BAD_ROWS);
- jackrabbit.xlsx: a family sheet and a student sheet sharing a Family ID.
"""

import csv
import random
import unicodedata
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

from cedarheights.school_import.columns import GENERIC, MY_MUSIC_STAFF, TEACHERS

HERE = Path(__file__).parent
FIRST_NAMES = [
    "Maya",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Ethan",
    "Ava",
    "Lucas",
    "Sophia",
    "Mason",
    "Isabella",
    "Logan",
    "Mia",
    "Aiden",
    "Amelia",
    "Jacob",
    "Harper",
    "Leo",
    "Chloe",
    "Owen",
    "Zoe",
    "Elijah",
    "Nora",
    "Benjamin",
    "Lily",
    "Samuel",
    "Aria",
    "Henry",
    "Layla",
    "Jack",
    "Priya",
    "Arjun",
    "Mei",
    "Hiro",
    "Amara",
    "Kofi",
]
LAST_NAMES = [
    "Nguyen",
    "Smith",
    "Tremblay",
    "Singh",
    "Wong",
    "Martin",
    "Roy",
    "Patel",
    "Gagnon",
    "Li",
    "Brown",
    "Chen",
    "Wilson",
    "Côté",
    "MacDonald",
    "Taylor",
    "Kim",
    "Bouchard",
    "Ali",
    "Campbell",
    "Anderson",
    "Khan",
    "Lee",
    "Morin",
    "Young",
    "Ahmed",
    "Fraser",
    "Leblanc",
    "Reid",
    "Okafor",
]
TEACHER_NAMES = [
    ("Clara", "Wieck", "Piano; Voice"),
    ("Pablo", "Casals", "Cello"),
    ("Yehudi", "Menuhin", "Violin; Viola"),
    ("Glenn", "Gould", "Piano"),
    ("Andrés", "Segovia", "Guitar"),
    ("Ella", "Fitzgerald", "Voice"),
    ("Jean-Pierre", "Rampal", "Flute"),
    ("Nadia", "Boulanger", "Piano; Theory"),
    ("Evelyn", "Glennie", "Drums"),
    ("Wynton", "Marsalis", "Trumpet"),
    ("Hilary", "Hahn", "Violin"),
    ("Oscar", "Peterson", "Piano"),
]
# Each teacher teaches Monday to Friday afternoons and Saturday mornings; a sample's lessons fill Monday to
# Wednesday, 14:00 onwards, half an hour each, so no two clash.
AVAILABILITY = "Mon 14:00-21:00; Tue 14:00-21:00; Wed 14:00-21:00; Thu 14:00-21:00; Fri 14:00-21:00; Sat 09:00-14:00"
DAYS = ("Monday", "Tuesday", "Wednesday")
SLOTS_PER_DAY = 14
LESSON_START = "2025-09-02"  # in the past: lessons are booked from the import's day on
BIRTHDAY_YEARS = range(2008, 2020)


def teacher_email(index: int) -> str:
    first, last, _ = TEACHER_NAMES[index]
    return ascii_email(f"{first}.{last}@teachers.example.com")


def ascii_email(address: str) -> str:
    """Accents dropped: an email address is plain ASCII (Côté → cote)."""
    return unicodedata.normalize("NFKD", address).encode("ascii", "ignore").decode().lower()


def teacher_instrument(index: int) -> str:
    return TEACHER_NAMES[index][2].split(";")[0].strip()


def lesson_of(row: int) -> tuple[int, str, str]:
    """Row `row`'s teacher (by index), weekday and time: teachers in turn, each one's day filled by half-hours."""
    teacher, slot = row % len(TEACHER_NAMES), row // len(TEACHER_NAMES)
    day, minute = DAYS[slot // SLOTS_PER_DAY], 14 * 60 + 30 * (slot % SLOTS_PER_DAY)
    return teacher, day, f"{minute // 60:02d}:{minute % 60:02d}"


def _write_csv(name: str, headers: list[str], rows: list[dict[str, str]]) -> None:
    with open(HERE / name, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=headers, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def teachers() -> None:
    rows = [
        {
            "Teacher ID": f"T-{index + 1}",
            "First Name": first,
            "Last Name": last,
            "Email": teacher_email(index),
            "Instruments": instruments,
            "Availability": AVAILABILITY,
        }
        for index, (first, last, instruments) in enumerate(TEACHER_NAMES)
    ]
    _write_csv("teachers.csv", list(TEACHERS.headers), rows)


def _people(rng: random.Random, count: int) -> list[dict]:
    """`count` children in families: about one family in four has two, and each name is unique."""
    people, family = [], None
    for row in range(count):
        if family is None or rng.random() > 0.25:
            last = LAST_NAMES[row % len(LAST_NAMES)]
            family = {"number": row + 1, "last": last, "parent": FIRST_NAMES[(row * 7 + 3) % len(FIRST_NAMES)]}
        birthday = date(rng.choice(BIRTHDAY_YEARS), 1 + row % 12, 1 + row % 28)
        people.append({"row": row, "first": f"{FIRST_NAMES[row % len(FIRST_NAMES)]}", "birthday": birthday, **family})
    return people


def my_music_staff() -> None:
    rng = random.Random(18)
    rows = []
    for person in _people(rng, 500):
        row, teacher = person["row"], None
        status = rng.choices(["Active", "Trial", "Waiting", "Lead", "Inactive"], weights=[80, 6, 5, 4, 5])[0]
        adult = row % 10 == 9
        values = {
            "First Name": person["first"],
            "Last Name": person["last"],
            "Email": ascii_email(f"{person['first']}.{person['last']}.{row}@mms.example.com") if adult else "",
            "Birthday": (person["birthday"].replace(year=1980 + row % 20) if adult else person["birthday"]).isoformat(),
            "Address": f"{10 + person['number']} Cedar Street",
            "Instrument": "",
            "Status": status,
            "Date Started": LESSON_START,
            "Inactive Date": "2025-06-30" if status == "Inactive" else "",
        }
        if not adult:
            parent_email = ascii_email(f"{person['parent']}.{person['last']}.{person['number']}@mms.example.com")
            values |= {
                "Parent Contact 1 First Name": person["parent"],
                "Parent Contact 1 Last Name": person["last"],
                "Parent Contact 1 Email": parent_email,
                "Parent Contact 1 Phone": f"416-555-{person['number']:04d}",
            }
        teacher, day, at = lesson_of(row)
        values["Instrument"] = teacher_instrument(teacher)
        if status in {"Active", "Trial"}:
            first, last, _ = TEACHER_NAMES[teacher]
            values |= {"Teacher": f"{first} {last}", "Lesson Day": day, "Lesson Time": at, "Lesson Minutes": "30"}
        rows.append(values)
    _write_csv("my_music_staff_500.csv", list(MY_MUSIC_STAFF.headers), rows)


def _template_row(person: dict, *, with_lesson: bool = True) -> dict[str, str]:
    row = person["row"]
    teacher, day, at = lesson_of(row)
    values = {
        "Student ID": f"S-{row + 1}",
        "First Name": person["first"],
        "Last Name": person["last"],
        "Birthday": person["birthday"].isoformat(),
        "Instrument": teacher_instrument(teacher),
        "Status": "Active",
        "Family ID": f"F-{person['number']}",
        "Family Name": f"{person['last']} family",
        "Address": f"{10 + person['number']} Maple Avenue",
        "City": "Toronto",
        "Province": "ON",
        "Postal Code": "M4B 1B3",
        "Guardian 1 First Name": person["parent"],
        "Guardian 1 Last Name": person["last"],
        "Guardian 1 Email": ascii_email(f"{person['parent']}.{person['last']}.{person['number']}@template.example.com"),
        "Guardian 1 Phone": f"647-555-{person['number']:04d}",
    }
    if person["number"] % 3 == 0:
        values |= {
            "Guardian 2 First Name": "Sam",
            "Guardian 2 Last Name": person["last"],
            "Guardian 2 Email": ascii_email(f"sam.{person['last']}.{person['number']}@template.example.com"),
        }
    if with_lesson:
        values |= {
            "Teacher": teacher_email(teacher),
            "Lesson Day": day,
            "Lesson Time": at,
            "Lesson Minutes": "30",
            "Lesson Start": LESSON_START,
        }
    return values


def template() -> None:
    rows = [_template_row(person) for person in _people(random.Random(6), 500)]
    _write_csv("template_500.csv", list(GENERIC.headers), rows)


# Row (as the spreadsheet numbers it) → (column, the wrong value). Rows 2 to 11 are right.
BAD_ROWS = {
    12: ("First Name", ""),
    13: ("Birthday", "2015-13-01"),
    14: ("Birthday", "2999-01-01"),
    15: ("Guardian 1 Email", "not-an-email"),
    16: ("Status", "Sleeping"),
    17: ("Lesson Day", "Funday"),
    18: ("Lesson Time", "25:00"),
    19: ("Lesson Minutes", "5"),
    20: ("Teacher", "nobody@example.com"),
    21: ("Lesson Day", "Sunday"),  # outside the teacher's hours: reported under Lesson Time
    22: ("Lesson Time", "clash"),  # the time of row 2, with row 2's teacher
    23: ("Student ID", ""),
    24: ("Family ID", ""),
    25: ("Guardian 1 Email", ""),
    26: ("Guardian 2 Email", "sam@"),
    27: ("Lesson Time", ""),  # a day without a time
    28: ("Province", "Ontario"),
    29: ("Status", "Inactive"),  # inactive with a weekly lesson
    30: ("Guardian 1 Email", "clara.wieck@teachers.example.com"),  # a teacher's account
    31: ("Instrument", ""),
}


def bad_rows() -> None:
    people = _people(random.Random(30), 30)
    rows = [_template_row(person) for person in people]
    for number, (column, value) in BAD_ROWS.items():
        row = rows[number - 2]
        if value == "clash":
            row |= {name: rows[0][name] for name in ("Teacher", "Lesson Day", "Lesson Time")}
        else:
            row[column] = value
        if column == "Guardian 1 Email" and not value:  # no guardian at all
            row |= {
                f"Guardian {n} {part}": "" for n in (1, 2) for part in ("First Name", "Last Name", "Email", "Phone")
            }
        if column == "Guardian 2 Email":
            row |= {"Guardian 2 First Name": "Sam", "Guardian 2 Last Name": row["Last Name"]}
    _write_csv("template_bad_rows.csv", list(GENERIC.headers), rows)


def jackrabbit() -> None:
    people = _people(random.Random(12), 20)
    rows = [_template_row(person) for person in people]
    family_headers = ["Family ID", "Family Name", "Address", "City", "Province", "Postal Code"] + [
        h for h in GENERIC.headers if h.startswith("Guardian")
    ]
    student_headers = ["Family ID"] + [h for h in GENERIC.headers if h not in family_headers]
    workbook = Workbook()
    families = workbook.active
    families.title = "Families"
    families.append(family_headers)
    seen = set()
    for row in rows:
        if row["Family ID"] not in seen:
            seen.add(row["Family ID"])
            families.append([row.get(h, "") for h in family_headers])
    students = workbook.create_sheet("Students")
    students.append(student_headers)
    for row in rows:
        students.append([row.get(h, "") for h in student_headers])
    workbook.properties.created = workbook.properties.modified = datetime(2026, 1, 1)
    workbook.save(HERE / "jackrabbit.xlsx")


def template_with_example() -> list[list[str]]:
    """The template page's download: the headers and one example row."""
    return [list(GENERIC.headers), [GENERIC.example.get(header, "") for header in GENERIC.headers]]


if __name__ == "__main__":
    teachers()
    my_music_staff()
    template()
    bad_rows()
    jackrabbit()
