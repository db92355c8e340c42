from django import forms
from django.contrib.auth import forms as auth_forms

from accounts.models import User
from accounts.services import password_set


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone"]


class SetPasswordForm(auth_forms.SetPasswordForm):
    """The reset and welcome pages' form: its password is set by the one service every road uses."""

    def save(self, commit=True):
        return password_set(user=self.user, new_password=self.cleaned_data["new_password1"])


class AdminPasswordChangeForm(auth_forms.AdminPasswordChangeForm):
    """The admin's "change password" page, through the same service ("disable" makes the password unusable)."""

    def save(self, commit=True):
        usable = self.cleaned_data["set_usable_password"]
        return password_set(user=self.user, new_password=self.cleaned_data["password1"] if usable else None)
