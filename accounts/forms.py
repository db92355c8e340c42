import re

from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.selectors import ReminderChoice
from accounts.services import password_set
from cedarheights.selectors import school_settings_get
from cedarheights.validators import no_control_characters

# Canada's provinces and territories by their postal codes: what Family.province (two letters) holds.
PROVINCES = [
    ("AB", "Alberta"),
    ("BC", "British Columbia"),
    ("MB", "Manitoba"),
    ("NB", "New Brunswick"),
    ("NL", "Newfoundland and Labrador"),
    ("NS", "Nova Scotia"),
    ("NT", "Northwest Territories"),
    ("NU", "Nunavut"),
    ("ON", "Ontario"),
    ("PE", "Prince Edward Island"),
    ("QC", "Quebec"),
    ("SK", "Saskatchewan"),
    ("YT", "Yukon"),
]
POSTAL_CODE = re.compile(r"([A-Z]\d[A-Z]) ?(\d[A-Z]\d)")
PHONE_CHARACTERS = re.compile(r"[0-9+().\- ]+")


def phone_number(value: str) -> None:
    """A phone number as people write it (digits, spaces, dashes, dots, brackets, a leading +): 10 to 15 digits."""
    digits = sum(c.isdigit() for c in value)
    if not PHONE_CHARACTERS.fullmatch(value) or not 10 <= digits <= 15:
        raise ValidationError("Enter a phone number, e.g. 416-555-0123.", code="phone")


class PostalCodeField(forms.CharField):
    """A Canadian postal code, kept as Canada Post writes it: upper case, "A1A 1A1"."""

    def __init__(self, **kwargs):
        super().__init__(max_length=10, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        if not (match := POSTAL_CODE.fullmatch(value.upper())):
            raise ValidationError("Enter a Canadian postal code, e.g. M4E 2K1.", code="postal_code")
        return f"{match[1]} {match[2]}"


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone"]


class ReminderPreferencesForm(forms.Form):
    """The profile's reminder emails: a checkbox per kind the person gets, ticked while it is on, with when they last
    chose (in the school's zone)."""

    def __init__(self, *args, choices: list[ReminderChoice], **kwargs):
        super().__init__(*args, **kwargs)
        zone = school_settings_get().zone
        for choice in choices:
            chosen = ""
            if choice.changed_at is not None:
                local = choice.changed_at.astimezone(zone)
                state = "on" if choice.enabled else "off"
                chosen = f"You turned this {state} on {local:%-d %b %Y} at {local:%-I:%M %p}."
            self.fields[choice.kind] = forms.BooleanField(
                label=choice.label, required=False, initial=choice.enabled, help_text=chosen
            )


class SetPasswordForm(auth_forms.SetPasswordForm):
    """The reset and welcome pages' form: its password is set by the one service every road uses."""

    def save(self, commit=True):
        return password_set(user=self.user, new_password=self.cleaned_data["new_password1"])


class AdminPasswordChangeForm(auth_forms.AdminPasswordChangeForm):
    """The admin's "change password" page, through the same service ("disable" makes the password unusable)."""

    def save(self, commit=True):
        usable = self.cleaned_data["set_usable_password"]
        return password_set(user=self.user, new_password=self.cleaned_data["password1"] if usable else None)


class AccessRequestExtendForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[no_control_characters],
        help_text="Why the answer needs more time (e.g. records to gather from storage); the family reads it.",
    )


class AccessRequestAnswerForm(forms.Form):
    answered_on = forms.DateField(label="Answered on")
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[no_control_characters],
        help_text="How it was answered, e.g. the export downloaded, or records given in person.",
    )
