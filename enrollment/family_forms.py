"""The family portal's forms: cancelling a lesson, and choosing a make-up time (to book with a credit, or to
reschedule a lesson to)."""

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from cedarheights.validators import no_control_characters, record_id
from enrollment.consents import Choice
from scheduling.models import Student, Teacher


class LessonCancelForm(forms.Form):
    use_sick_pass = forms.BooleanField(required=False, label="Use a sick pass")
    reason = forms.CharField(
        required=False, max_length=200, label="Reason (optional)", validators=[no_control_characters]
    )
    # Whether the page said "late" when the parent read it: a window that closed meanwhile is said again first.
    shown_late = forms.BooleanField(required=False, widget=forms.HiddenInput)


class MakeupTimeForm(forms.Form):
    """One offered make-up time, sent as `<teacher id>@<start, ISO 8601 with offset>` (the radios' values). Whether
    it is still offered is the booking's to say, under its locks."""

    slot = forms.CharField(
        label="Make-up time", max_length=80, error_messages={"required": "Choose one of the times offered."}
    )

    def clean_slot(self) -> tuple[Teacher, datetime]:
        teacher_id, _, start = self.cleaned_data["slot"].partition("@")
        try:
            start_at = datetime.fromisoformat(start)
        except ValueError:
            start_at = None
        known = record_id(teacher_id)
        teacher = Teacher.objects.filter(pk=known, active=True).first() if known is not None else None
        if teacher is None or start_at is None or start_at.tzinfo is None or not _within_a_year(start_at):
            raise forms.ValidationError("Choose one of the times offered.")
        return teacher, start_at


def _within_a_year(moment: datetime) -> bool:
    """A time a make-up could be at: a real offset, and no further than a year from now (a time near the calendar's
    ends cannot even be moved to another zone)."""
    try:
        return abs(moment - timezone.now()) <= timedelta(days=366)
    except OverflowError:
        return False


class OfferFilterForm(forms.Form):
    """`?day=&teacher=` on the pages that offer make-up times."""

    day = forms.DateField(required=False, label="Show times on", widget=forms.DateInput(attrs={"type": "date"}))
    teacher = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, label="With")


class PrivacyChoiceForm(forms.Form):
    """One choice on the "Privacy and consent" page: a photos choice names one of the parent's own children."""

    choice = forms.ChoiceField(choices=Choice.choices)
    student = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, family_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.family_id = family_id

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("choice") in (Choice.PHOTOS_GIVE, Choice.PHOTOS_WITHDRAW):
            student = Student.objects.filter(pk=cleaned.get("student") or 0, family_id=self.family_id).first()
            if student is None:
                self.add_error("student", "Choose one of your children.")
            cleaned["student"] = student
        else:
            cleaned["student"] = None
        return cleaned
