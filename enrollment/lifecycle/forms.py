"""The forms of a pause, a withdrawal and a change (the admin's pages and the parent's portal): they parse what was
typed into a service's arguments; the rules are the services'."""

from datetime import date, time

from django import forms

from cedarheights.models import SchoolSettings
from cedarheights.selectors import school_today
from enrollment.lifecycle.changes import WEEKDAYS
from enrollment.models import Enrollment, TuitionPlan
from scheduling.models import Teacher


def _date() -> forms.DateField:
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class EnrollmentChangeForm(forms.Form):
    effective_on = _date()
    effective_on.label = "From"
    weekday = forms.TypedChoiceField(
        choices=[("", "Same day"), *enumerate(WEEKDAYS)], coerce=int, empty_value=None, required=False
    )
    start_time = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}), help_text="Empty: the same time."
    )
    teacher = forms.ModelChoiceField(
        queryset=Teacher.objects.filter(active=True), required=False, empty_label="Same teacher"
    )
    lesson_minutes = forms.TypedChoiceField(
        choices=[("", "Same length"), *Enrollment.LessonMinutes.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label="Length",
    )
    tuition_plan = forms.ModelChoiceField(
        queryset=TuitionPlan.objects.filter(active=True), required=False, empty_label="Same plan", label="Plan"
    )

    def arguments(self) -> dict:
        """The service's keyword arguments (None: unchanged)."""
        return dict(self.cleaned_data)


def change_token_payload(arguments: dict) -> dict:
    """What a confirmation carries of a previewed change, as plain values."""
    return {
        "effective_on": arguments["effective_on"].isoformat(),
        "weekday": arguments.get("weekday"),
        "start_time": arguments["start_time"].strftime("%H:%M") if arguments.get("start_time") else None,
        "teacher_id": arguments["teacher"].pk if arguments.get("teacher") else None,
        "lesson_minutes": arguments.get("lesson_minutes"),
        "tuition_plan_id": arguments["tuition_plan"].pk if arguments.get("tuition_plan") else None,
    }


def change_token_arguments(payload: dict) -> dict:
    """The service's arguments back from a confirmation's payload."""
    return {
        "effective_on": date.fromisoformat(payload["effective_on"]),
        "weekday": payload["weekday"],
        "start_time": time.fromisoformat(payload["start_time"]) if payload["start_time"] else None,
        "teacher": Teacher.objects.get(pk=payload["teacher_id"]) if payload["teacher_id"] else None,
        "lesson_minutes": payload["lesson_minutes"],
        "tuition_plan": TuitionPlan.objects.get(pk=payload["tuition_plan_id"]) if payload["tuition_plan_id"] else None,
    }


class EnrollmentPauseForm(forms.Form):
    starts_on = _date()
    starts_on.label = "Pause from"
    resumes_on = _date()
    resumes_on.label = "Lessons resume on"
    lessons = forms.ChoiceField(
        choices=[("", "As the school's setting says"), *SchoolSettings.PauseLessons.choices], required=False
    )

    def arguments(self) -> dict:
        lessons = self.cleaned_data["lessons"]
        return {
            "starts_on": self.cleaned_data["starts_on"],
            "resumes_on": self.cleaned_data["resumes_on"],
            "release_lessons": None if not lessons else lessons == SchoolSettings.PauseLessons.RELEASE,
        }


class EnrollmentWithdrawForm(forms.Form):
    notice_given_on = _date()
    notice_given_on.label = "Notice given on"
    unused_lessons = forms.ChoiceField(
        choices=[("", "As the school's setting says"), *SchoolSettings.UnusedLessons.choices],
        required=False,
        label="Lessons paid after the last one",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notice_given_on"].initial = school_today()

    def arguments(self) -> dict:
        return {
            "notice_given_on": self.cleaned_data["notice_given_on"],
            "unused_lessons": self.cleaned_data["unused_lessons"] or None,
        }
