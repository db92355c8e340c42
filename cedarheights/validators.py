"""One validator for names and every other single-line text: no line breaks or control characters.

A carriage return in a child's name was stored, then broke the .ics file and stopped the welcome emails
("Header values can't contain newlines"). Model fields carry it, so model forms, the admin and model serializers
check it too; request bodies and forms that are not a model's name it themselves.
"""

import re

from django.core.exceptions import ValidationError

# C0 (tab, LF and CR among them), DEL, C1, and Unicode's line and paragraph separators.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MESSAGE = "Use one line of plain text: no line breaks, tabs or other control characters."


def no_control_characters(value: str) -> None:
    if CONTROL_CHARACTERS.search(value):
        raise ValidationError(MESSAGE, code="control_characters")


def single_line(text: str) -> str:
    """Text for a place that must be one line (an email's subject): each control character becomes a space."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", text).split())


def record_id(text: str) -> int | None:
    """A record's id as typed in a URL (`?ids=3,4`, `?family=7`): digits an id column can hold, else None (a
    number too large for the database would be its error, not the page's answer)."""
    return int(text) if text.isdigit() and len(text) < 10 else None
