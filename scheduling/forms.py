"""The teacher's pages' forms (/teach/): they read what was typed; the services decide."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from cedarheights.validators import no_control_characters, single_line
from scheduling.local_time import local_datetime
from scheduling.models import NOTE_LENGTH
from scheduling.outcomes import Outcome
from scheduling.transitions import STILL_TO_COME

# What each one-tap button records; "undo" takes a mark back (a lesson still to come again).
ATTENDANCE_MARKS = {"attended": Outcome.ATTENDED, "no_show": Outcome.NO_SHOW, "undo": STILL_TO_COME}


class AttendanceForm(forms.Form):
    mark = forms.ChoiceField(choices=[(mark, mark) for mark in ATTENDANCE_MARKS])

    @property
    def outcome(self) -> str:
        return ATTENDANCE_MARKS[self.cleaned_data["mark"]]


class TeacherCancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is the lesson cancelled?",
        max_length=200,
        validators=[no_control_characters],
        help_text="Kept with the lesson for the school.",
        error_messages={"required": "Say why the lesson is cancelled."},
    )


class LessonNotesForm(forms.Form):
    family_note = forms.CharField(
        label="Note to the family",
        required=False,
        max_length=NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The family reads it in their portal. One paragraph: line breaks become spaces.",
    )
    notes = forms.CharField(
        label="Private notes",
        required=False,
        max_length=NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Only you and the school see these.",
    )

    def clean_family_note(self) -> str:
        # The family's note is one line of text (the model refuses control characters): kept, not refused.
        return single_line(self.cleaned_data["family_note"])


class MakeupBlockForm(forms.Form):
    """A block on one local day, from a wall-clock time to a later one; `start_at` and `end_at` come out aware."""

    day = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label="From", widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label="To", widget=forms.TimeInput(attrs={"type": "time"}))

    # Where a service's error about `start_at` or `end_at` is shown.
    SERVICE_FIELDS = {"start_at": "start", "end_at": "end"}

    def __init__(self, *args, zone, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean(self):
        data = super().clean()
        day, start, end = data.get("day"), data.get("start"), data.get("end")
        if day is None or start is None or end is None:
            return data
        if end <= start:
            self.add_error("end", "The block must end after it starts.")
            return data
        if abs(day - timezone.localdate()) > timedelta(days=366):  # the calendar's ends cannot carry a time zone
            self.add_error("day", "Choose a day from today to a year ahead.")
            return data
        for name, at in (("start", start), ("end", end)):
            data[f"{name}_at"] = local_datetime(day, at, self.zone)
            if data[f"{name}_at"] is None:
                self.add_error(name, "This time does not exist that day: the clocks go forward.")
        return data

    def add_service_error(self, error) -> None:
        """A service's refusal above the form, and its word on a field next to that field."""
        self.add_error(None, error.message)
        for name, messages in (error.fields or {}).items():
            for message in messages:
                if name in self.SERVICE_FIELDS and message != error.message:
                    self.add_error(self.SERVICE_FIELDS[name], message)
