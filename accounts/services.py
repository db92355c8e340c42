from django.contrib.auth import password_validation, update_session_auth_hash
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework.authtoken.models import Token

from accounts.models import Family, User
from cedarheights.errors import InvalidInput
from cedarheights.services import audited_create, audited_update

PROFILE_FIELDS = ("first_name", "last_name", "phone")


def user_update_profile(*, user: User, **fields) -> User:
    for name, value in fields.items():
        if name not in PROFILE_FIELDS:
            raise InvalidInput(f"{name} cannot be changed here.", fields={name: ["Not editable."]})
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=list(fields))
    return user


def _validated_new_password(user: User, new_password: str, field: str) -> str:
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as error:
        raise InvalidInput("Choose a stronger password.", fields={field: error.messages}) from error
    return new_password


@transaction.atomic
def password_change(*, request, user: User, old_password: str, new_password: str) -> User:
    """Change a password: every other session and token of the user stops working; this one stays."""
    if not user.check_password(old_password):
        raise InvalidInput(
            "The current password is not right.", fields={"old_password": ["Not your current password."]}
        )
    user.set_password(_validated_new_password(user, new_password, "new_password"))
    user.save(update_fields=["password"])
    calling_token = getattr(getattr(request, "auth", None), "key", None)  # an API client keeps its own token
    Token.objects.filter(user=user).exclude(key=calling_token).delete()
    if request.session.session_key:
        update_session_auth_hash(request, user)
    return user


def password_reset_request(*, request, email: str) -> None:
    """Email a single-use reset link if the address has an account; say the same either way."""
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        form.save(
            request=request,
            use_https=request.is_secure(),
            subject_template_name="registration/password_reset_subject.txt",
            email_template_name="registration/password_reset_email.txt",
            html_email_template_name="registration/password_reset_email.html",
        )


def _user_from_uid(uid: str) -> User | None:
    try:
        return User.objects.get(pk=int(urlsafe_base64_decode(uid).decode()), is_active=True)
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError, User.DoesNotExist):
        return None


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a password from an emailed link. The link then stops working: the token signs the old hash."""
    user = _user_from_uid(uid)
    if user is None or not default_token_generator.check_token(user, token):
        raise InvalidInput("This link has expired or was already used. Ask for a new one.", code="invalid_link")
    user.set_password(_validated_new_password(user, new_password, "new_password"))
    user.save(update_fields=["password"])
    Token.objects.filter(user=user).delete()
    return user


def set_password_link_build(*, user: User, base_url: str) -> str:
    """The link a new parent gets to choose a password: single use, expiring; never a password in an email."""
    path = reverse(
        "set-password",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return base_url.rstrip("/") + path


def token_issue(*, user: User) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, token: Token) -> None:
    token.delete()


FAMILY_FIELDS = (
    "name",
    "street",
    "city",
    "province",
    "postal_code",
    "emergency_contact_name",
    "emergency_contact_phone",
    "notes",
)


def family_create(*, actor, **fields) -> Family:
    return audited_create(actor=actor, model=Family, **fields)


def family_update(*, actor, family: Family, **fields) -> Family:
    return audited_update(actor=actor, obj=family, **fields)
