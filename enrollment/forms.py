import uuid

from django import forms
from django.forms import formset_factory

from billing.selectors import tuition_plans_offered
from enrollment.models import Enrollment, Student
from scheduling.models import Instrument, Weekday


class ParentForm(forms.Form):
    parent_first_name = forms.CharField(label="Your first name", max_length=150)
    parent_last_name = forms.CharField(label="Your last name", max_length=150)
    email = forms.EmailField(label="Email", max_length=254)
    phone = forms.CharField(label="Phone", max_length=32)


class ChildForm(forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    date_of_birth = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    instrument = forms.ModelChoiceField(queryset=Instrument.objects.filter(active=True))
    level = forms.ChoiceField(choices=Student.Level.choices, initial=Student.Level.BEGINNER)
    lesson_minutes = forms.TypedChoiceField(
        label="Lesson length", choices=Enrollment.LessonMinutes.choices, coerce=int, initial=30
    )


class WindowForm(forms.Form):
    # A blank first choice, so the unused extra rows stay unchanged (and optional).
    weekday = forms.TypedChoiceField(label="Day", choices=[("", "—"), *Weekday.choices], coerce=int)
    start_time = forms.TimeField(label="From", widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(label="To", widget=forms.TimeInput(attrs={"type": "time"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start_time") and cleaned.get("end_time") and cleaned["end_time"] <= cleaned["start_time"]:
            self.add_error("end_time", "The window must end after it starts.")
        return cleaned


ChildFormSet = formset_factory(ChildForm, extra=3, min_num=1, max_num=6, validate_min=True)
WindowFormSet = formset_factory(WindowForm, extra=3, min_num=1, max_num=14, validate_min=True)


class DetailsForm(forms.Form):
    tuition_plan = forms.ModelChoiceField(queryset=tuition_plans_offered(), empty_label=None)
    consent = forms.BooleanField(label="I agree to the privacy policy (version 2026-09) for my family and children.")
    payment_method_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=255)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
