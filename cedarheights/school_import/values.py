"""One row's values read as what they mean (a date, a weekday, a time, an email), each problem noted under its
value's name so that the owner sees it under the column of their file."""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from cedarheights.weekly import Weekday
from scheduling.models import Student

WEEKDAYS = {label.lower(): value for value, label in Weekday.choices}

# Both My Music Staff's words and our own.
STATUSES = {
    "active": Student.Status.ACTIVE,
    "trial": Student.Status.PROSPECTIVE,
    "waiting": Student.Status.PROSPECTIVE,
    "lead": Student.Status.PROSPECTIVE,
    "prospective": Student.Status.PROSPECTIVE,
    "paused": Student.Status.PAUSED,
    "inactive": Student.Status.WITHDRAWN,
    "withdrawn": Student.Status.WITHDRAWN,
}


@dataclass
class Values:
    raw: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)  # value name → message

    def text(self, name: str, *, required: bool = False, max_length: int = 200) -> str:
        value = self.raw.get(name)
        text = "" if value is None else str(value).strip()
        if isinstance(value, float) and value.is_integer():  # a spreadsheet's number typed as an id
            text = str(int(value))
        if required and not text:
            self.errors[name] = "Required."
        elif len(text) > max_length:
            self.errors[name] = f"At most {max_length} characters."
        elif any(ord(c) < 32 for c in text):
            self.errors[name] = "Contains control characters."
        return text

    def email(self, name: str, *, required: bool = False) -> str:
        text = self.text(name, required=required).lower()
        if text and name not in self.errors:
            try:
                validate_email(text)
            except ValidationError:
                self.errors[name] = f"“{text}” is not an email address."
        return text

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = self.raw.get(name)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = self.text(name, required=required)
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.errors[name] = f"“{text}” is not a date: write it as YYYY-MM-DD."
            return None

    def weekday(self, name: str) -> int | None:
        text = self.text(name).lower()
        if not text:
            return None
        matches = [value for label, value in WEEKDAYS.items() if len(text) >= 3 and label.startswith(text)]
        if len(matches) != 1:
            self.errors[name] = f"“{text}” is not a weekday: write Monday to Sunday."
            return None
        return matches[0]

    def clock(self, name: str) -> time | None:
        value = self.raw.get(name)
        if isinstance(value, datetime):
            return value.time()
        if isinstance(value, time):
            return value
        text = self.text(name)
        if not text:
            return None
        try:
            return time.fromisoformat(text if len(text) > 4 else text.zfill(5))
        except ValueError:
            self.errors[name] = f"“{text}” is not a time: write it as 16:30."
            return None

    def whole_number(self, name: str, *, low: int, high: int) -> int | None:
        text = self.text(name)
        if not text:
            return None
        try:
            number = int(float(text))
        except (ValueError, OverflowError):  # OverflowError: "inf", "1e999"
            number = None
        if number is None or not low <= number <= high:
            self.errors[name] = f"“{text}” is not a number from {low} to {high}."
            return None
        return number

    def status(self, name: str) -> str:
        text = self.text(name).lower()
        if not text:
            return Student.Status.ACTIVE
        if text not in STATUSES:
            self.errors[name] = f"“{text}” is not a status: Active, Trial, Waiting, Lead or Inactive."
            return Student.Status.ACTIVE
        return STATUSES[text]
