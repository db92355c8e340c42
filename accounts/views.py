from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from accounts.forms import ProfileForm, SetPasswordForm
from accounts.services import password_change, user_update_profile
from accounts.tokens import password_link_tokens
from cedarheights.errors import DomainError
from cedarheights.roles import is_parent


def locked_out(request, credentials=None, *args, **kwargs):
    """django-axes: too many failed sign-ins for this account from this address, or from this address for any
    account; a cool-off, not a permanent lock. The same answer whether or not the account exists."""
    message = "Too many failed sign-ins. Try again in an hour, or reset your password."
    if request.path.startswith("/api/"):
        from cedarheights.error_body import error_body

        return JsonResponse(error_body(request, code="locked_out", message=message), status=429)
    return render(request, "accounts/locked_out.html", {"message": message}, status=429)


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
    return render(request, "accounts/profile.html", {"form": form, "has_billing": is_parent(request.user)})
