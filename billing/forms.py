from django import forms

from cedarheights.validators import no_control_characters


class PromotionCodeForm(forms.Form):
    """A parent's promotion code, on their billing page."""

    code = forms.CharField(
        label="Promotion code",
        max_length=40,
        validators=[no_control_characters],
        help_text="It takes money off from your next month's tuition.",
    )
