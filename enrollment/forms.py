import re
from dataclasses import dataclass, field
from datetime import date

from django import forms
from django.core import signing
from django.forms import BaseFormSet, formset_factory
from django.http import QueryDict

from accounts.services import MARKETING_CONSENT_TEXT
from cedarheights.selectors import privacy_notice_current
from cedarheights.validators import no_control_characters
from cedarheights.weekly import Weekday
from enrollment.confirmation import submission_key_read, submission_key_sign
from enrollment.consents import PHOTOS_CONSENT_TEXT, lessons_consent_text
from enrollment.models import Enrollment, TuitionPlan
from enrollment.selectors import tuition_plans_offered
from enrollment.tuition import plan_price_text, term_fee_quotes
from scheduling.models import Instrument, Student


class ParentForm(forms.Form):
    parent_first_name = forms.CharField(label="Your first name", max_length=150, validators=[no_control_characters])
    parent_last_name = forms.CharField(label="Your last name", max_length=150, validators=[no_control_characters])
    email = forms.EmailField(label="Email", max_length=254)
    phone = forms.CharField(label="Phone", max_length=32, validators=[no_control_characters])


class ChildForm(forms.Form):
    first_name = forms.CharField(max_length=100, validators=[no_control_characters])
    last_name = forms.CharField(max_length=100, validators=[no_control_characters])
    date_of_birth = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    instrument = forms.ModelChoiceField(queryset=Instrument.objects.filter(active=True))
    level = forms.ChoiceField(choices=Student.Level.choices, initial=Student.Level.BEGINNER)
    lesson_minutes = forms.TypedChoiceField(
        label="Lesson length", choices=Enrollment.LessonMinutes.choices, coerce=int, initial=30
    )
    photos = forms.BooleanField(label=PHOTOS_CONSENT_TEXT, required=False)


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


class PageFormSet(BaseFormSet):
    """Formset errors in the page's words, not Django's ("Please submit at least 1 form.")."""

    default_error_messages = {
        "missing_management_form": "Part of the page was missing. Please load it again.",
    }


class ChildBlocks(PageFormSet):
    default_error_messages = {
        "too_few_forms": "Add at least one child.",
        "too_many_forms": "Enroll up to %(num)d children at a time; write to us for more.",
    }


class WindowRows(PageFormSet):
    default_error_messages = {
        "too_few_forms": "Give at least one time you can come each week.",
        "too_many_forms": "Give at most %(num)d weekly times.",
    }


CHILDREN_MAX = 4
# One child block to start; "Add another child" adds one, up to four (the page does it in the browser, or,
# without JavaScript, the server re-renders the page with one more block: see `child_blocks`).
ChildFormSet = formset_factory(
    ChildForm, formset=ChildBlocks, extra=0, min_num=1, max_num=CHILDREN_MAX, validate_min=True, validate_max=True
)
WindowFormSet = formset_factory(
    WindowForm, formset=WindowRows, extra=3, min_num=1, max_num=14, validate_min=True, validate_max=True
)


def child_blocks(data: QueryDict, *, add: bool = False, remove: int | None = None) -> QueryDict:
    """The posted page with its child blocks renumbered: one blank block more (`add`, up to four), one fewer
    (`remove`, an index), or, on a submit, only the blocks the family filled (at least one), so errors show as
    many blocks as were filled and the pipeline's `children-<n>` errors name the same blocks."""
    try:
        total = min(int(data.get("children-TOTAL_FORMS", 1)), ChildFormSet.absolute_max)
    except ValueError:
        total = 1
    if add:
        kept, total_after = list(range(total)), min(total + 1, CHILDREN_MAX)
    elif remove is not None:
        kept = [n for n in range(total) if n != remove] or [0]
        total_after = len(kept)
    else:
        kept = [n for n in range(total) if ChildForm(data, prefix=f"children-{n}").has_changed()] or [0]
        total_after = len(kept)
    rows = [{name: data.getlist(f"children-{n}-{name}") for name in ChildForm.base_fields} for n in kept]
    edited = data.copy()
    for key in [key for key in edited if re.match(r"children-\d+-", key)]:
        del edited[key]
    for n, row in enumerate(rows):
        for name, values in row.items():
            edited.setlist(f"children-{n}-{name}", values)
    edited["children-TOTAL_FORMS"] = str(total_after)
    return edited


class SubmissionKeyField(forms.CharField):
    """The form's submission key, made and signed by the server when it renders the page: a client can neither
    choose one (another family's) nor change it. A key that does not verify is an error, and the page is
    rendered again with a fresh one."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(initial=submission_key_sign, **kwargs)

    def to_python(self, value):
        try:
            return submission_key_read(super().to_python(value))
        except (signing.BadSignature, ValueError) as error:
            raise forms.ValidationError("This page was changed or is out of date: please send it again.") from error

    def bound_data(self, data, initial):
        try:
            submission_key_read(data or "")
        except (signing.BadSignature, ValueError):
            return initial
        return data


class DetailsForm(forms.Form):
    tuition_plan = forms.ModelChoiceField(queryset=tuition_plans_offered(), empty_label=None)
    consent = forms.BooleanField(error_messages={"required": "Please agree to the privacy notice to enroll."})
    # The notice version the page showed: the consent records it, even if a newer one is published meanwhile.
    notice_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    marketing = forms.BooleanField(label=MARKETING_CONSENT_TEXT, required=False)
    payment_method_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=255)
    idempotency_key = SubmissionKeyField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.notice = privacy_notice_current()
        if self.notice is not None:
            self.fields["consent"].label = lessons_consent_text(self.notice)
            self.fields["notice_version"].initial = self.notice.version


@dataclass(frozen=True)
class PlanFee:
    """What a plan on the form costs, in the words the page shows; a term-priced plan's figure for each lesson day
    too (`by_day`), so the page can follow the first weekly time the family picks."""

    plan: TuitionPlan
    text: str
    by_day: dict[int, str] = field(default_factory=dict)


def first_window_weekday(windows) -> int | None:
    """The weekday of the first weekly time the family gave on the page (as typed, valid or not yet), or None."""
    if not windows.is_bound:
        return None
    for n in range(windows.total_form_count()):
        value = str(windows.data.get(f"windows-{n}-weekday", "")).strip()
        if value.isdigit() and int(value) <= 6:
            return int(value)
    return None


def tuition_plan_fees(*, windows, on: date) -> list[PlanFee]:
    """Each offered plan and what it costs. A term-priced plan: its monthly fee this term for the day of the family's
    first weekly time, or, before they give one, the range over the days lessons are taught (the day is only known
    once a time is booked; the confirmation gives the exact figure)."""
    plans = list(tuition_plans_offered())
    quotes = term_fee_quotes(plans=plans, on=on)
    weekday = first_window_weekday(windows)
    fees = []
    for plan in plans:
        by_day = quotes.get(plan.pk)
        if by_day is None:
            fees.append(PlanFee(plan, plan_price_text(plan)))
            continue
        shown = by_day[weekday] if weekday is not None else by_day[None]
        fees.append(PlanFee(plan, shown.text, {day: quote.text for day, quote in by_day.items() if day is not None}))
    return fees
