from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from accounts.errors import LockedOut
from accounts.forms import ProfileForm, ReminderPreferencesForm, SetPasswordForm
from accounts.selectors import reminder_preferences_of
from accounts.services import password_change, reminder_preferences_set, user_update_profile
from accounts.tokens import password_link_tokens
from cedarheights.error_body import domain_error_response, is_api
from cedarheights.errors import DomainError
from cedarheights.roles import home_url_name, is_parent


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to every sign-in it paused (AXES_LOCKOUT_CALLABLE): axes puts it in place of what the
    view answered, whichever road signed in (the API, the sign-in page, the admin's). The API gets the one error
    body (so does a road with no form to show it on); a page, its sign-in form again with the error on it and the
    address typed kept."""
    error = LockedOut()
    form = (getattr(original_response, "context_data", None) or {}).get("form")
    if is_api(request) or form is None:
        return domain_error_response(request, error)
    form.errors.pop(NON_FIELD_ERRORS, None)  # "wrong password" would mislead: a paused sign-in is never tried
    form.add_error(None, ValidationError(error.message, code=error.code))
    context = original_response.context_data
    return TemplateResponse(
        request, original_response.template_name, context, status=error.status, headers=error.headers()
    ).render()


@login_required
def landing(request):
    """`/`, where signing in lands (LOGIN_REDIRECT_URL): each role on its own first page."""
    return redirect(home_url_name(request.user))


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    email_template_name = "registration/password_reset_email.txt"
    html_email_template_name = "registration/password_reset_email.html"
    token_generator = password_link_tokens


class PasswordChangeView(auth_views.PasswordChangeView):
    """The page's change goes through the same service as the API's: other sessions and tokens end."""

    def form_valid(self, form):
        password_change(
            request=self.request,
            user=self.request.user,
            old_password=form.cleaned_data["old_password"],
            new_password=form.cleaned_data["new_password1"],
        )
        return redirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The emailed reset link's page: the password is set by the service every road uses (tokens revoked,
    other sessions signed out, sign-in lockouts lifted)."""

    form_class = SetPasswordForm
    token_generator = password_link_tokens


class SetPasswordView(PasswordResetConfirmView):
    """A new parent chooses a password from the link in their welcome email, and is signed in."""

    template_name = "accounts/set_password.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("profile")


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user_update_profile(user=request.user, **{name: form.cleaned_data[name] for name in form.changed_data})
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Your details are saved.")
            return redirect("profile")
    reminders = ReminderPreferencesForm(choices=reminder_preferences_of(request.user))
    return _profile_page(request, form, reminders)


@login_required
@require_POST
def profile_reminders(request):
    """The profile's second form: each reminder email the person gets, on or off."""
    form = ReminderPreferencesForm(request.POST, choices=reminder_preferences_of(request.user))
    if form.is_valid():
        reminder_preferences_set(user=request.user, choices=form.cleaned_data, actor=request.user)
        messages.success(request, "Your reminder emails are saved.")
        return redirect("profile")  # at the top, where the message says it is saved
    return _profile_page(request, ProfileForm(instance=request.user), form)


def _profile_page(request, form: ProfileForm, reminders: ReminderPreferencesForm):
    context = {"form": form, "reminders": reminders, "has_billing": is_parent(request.user)}
    return render(request, "accounts/profile.html", context)
