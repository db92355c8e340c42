"""The portal's "My data" forms: a parent's and the family's contact details, the children's names, and a request
to correct anything else."""

from django import forms

from accounts.forms import PROVINCES, PostalCodeField, phone_number
from accounts.models import CorrectionRequest, Family, User
from accounts.privacy_requests import FAMILY_CORRECTABLE
from accounts.services import PROFILE_FIELDS
from cedarheights.validators import no_control_characters


class ContactDetailsForm(forms.Form):
    """The parent's own name and phone, and the family's address and emergency contact, as one form."""

    def __init__(self, *args, parent: User, family: Family, **kwargs):
        parent_fields = forms.fields_for_model(User, fields=PROFILE_FIELDS)
        family_fields = forms.fields_for_model(Family, fields=FAMILY_CORRECTABLE)
        initial = {
            **{n: getattr(parent, n) for n in PROFILE_FIELDS},
            **{n: getattr(family, n) for n in FAMILY_CORRECTABLE},
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields.update(parent_fields)
        self.fields.update(family_fields)
        self.fields["first_name"].label = "Your first name"
        self.fields["last_name"].label = "Your last name"
        self.fields["phone"].label = "Your phone"
        self.fields["first_name"].required = self.fields["last_name"].required = True
        self.fields["phone"].validators.append(phone_number)
        self.fields["emergency_contact_phone"].validators.append(phone_number)
        self.fields["province"] = forms.ChoiceField(choices=[("", "—"), *PROVINCES], required=False)
        self.fields["postal_code"] = PostalCodeField(required=False)

    def parent_changes(self) -> dict:
        return {n: self.cleaned_data[n] for n in PROFILE_FIELDS if n in self.changed_data}

    def family_changes(self) -> dict:
        return {n: self.cleaned_data[n] for n in FAMILY_CORRECTABLE if n in self.changed_data}


class ChildNamesForm(forms.Form):
    """Each child's first and last name (fields `first_<id>` and `last_<id>`)."""

    def __init__(self, *args, children, **kwargs):
        super().__init__(*args, **kwargs)
        self.children = list(children)
        for child in self.children:
            self.fields[f"first_{child.pk}"] = forms.CharField(
                label=f"{child.first_name}'s first name",
                max_length=100,
                initial=child.first_name,
                validators=[no_control_characters],
            )
            self.fields[f"last_{child.pk}"] = forms.CharField(
                label=f"{child.first_name}'s last name",
                max_length=100,
                initial=child.last_name,
                validators=[no_control_characters],
            )

    def names(self) -> dict[int, tuple[str, str]]:
        """The children whose name changed: id -> (first, last)."""
        changed = {name.split("_", 1)[1] for name in self.changed_data}
        return {
            child.pk: (self.cleaned_data[f"first_{child.pk}"], self.cleaned_data[f"last_{child.pk}"])
            for child in self.children
            if str(child.pk) in changed
        }


class CorrectionRequestForm(forms.ModelForm):
    class Meta:
        model = CorrectionRequest
        fields = ["about", "requested_change"]
        labels = {"about": "What is wrong", "requested_change": "What it should say"}
        help_texts = {"about": "Which record or detail, e.g. “Maya's date of birth” or “the lesson of 3 March”."}
