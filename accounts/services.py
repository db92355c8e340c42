import uuid

from axes.utils import reset as axes_reset
from django.contrib.auth import password_validation, update_session_auth_hash
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from knox.models import AuthToken

from accounts.models import ConsentRecord, Family, ReminderPreference, User, normalize_email
from accounts.selectors import ReminderChoice, marketing_consent_of, reminder_kinds_for, reminder_preferences_of
from accounts.tokens import password_link_tokens
from cedarheights.errors import InvalidInput
from cedarheights.models import AuditEvent, PrivacyNotice
from cedarheights.services import audit_record, audited_create, audited_update

PROFILE_FIELDS = ("first_name", "last_name", "phone")


def user_update_profile(*, user: User, **fields) -> User:
    for name in fields:
        if name not in PROFILE_FIELDS:
            raise InvalidInput(f"{name} cannot be changed here.", fields={name: ["Not editable."]})
    # Audited, as a parent's correction of their details in the portal. Compared with the stored row: a ModelForm
    # bound to `user` has already set the typed values on it, so nothing would read as changed.
    stored = User.objects.get(pk=user.pk)
    return audited_update(actor=user, obj=stored, family_id=user.family_id, **fields)


def _validated_new_password(user: User, new_password: str, field: str) -> str:
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as error:
        raise InvalidInput("Choose a stronger password.", fields={field: error.messages}) from error
    return new_password


@transaction.atomic
def password_set(*, user: User, new_password: str | None, request=None) -> User:
    """Every road that sets a password ends here: the reset and welcome links (page and API), the password
    change (page and API) and the admin's. The user's API tokens are revoked, every other session signs out
    (a session carries a hash of the password it signed in with), and the account's sign-in lockouts are lifted.

    `request`, when it is the user's own (a password change), keeps its session signed in and its token.
    `new_password=None` makes the password unusable (the admin's "disable password-based sign-in").
    """
    if new_password is None:
        user.set_unusable_password()
    else:
        user.set_password(_validated_new_password(user, new_password, "new_password"))
    user.save(update_fields=["password"])
    own_request = request is not None and request.user.pk == user.pk
    tokens_revoke_all(user=user, except_token=getattr(request, "auth", None) if own_request else None)
    if own_request and request.session.session_key:
        update_session_auth_hash(request, user)
    axes_reset(username=user.email)
    return user


def tokens_revoke_all(*, user: User, except_token: AuthToken | None = None) -> None:
    """Every API token of the user stops working (but the one the caller uses, if given)."""
    tokens = AuthToken.objects.filter(user=user)
    if isinstance(except_token, AuthToken):
        tokens = tokens.exclude(pk=except_token.pk)
    tokens.delete()


def password_change(*, request, user: User, old_password: str, new_password: str) -> User:
    """Change a password: every other session and token of the user stops working; this one stays."""
    if not user.check_password(old_password):
        raise InvalidInput(
            "The current password is not right.", fields={"old_password": ["Not your current password."]}
        )
    return password_set(user=user, new_password=new_password, request=request)


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
            token_generator=password_link_tokens,
        )


def _user_from_uid(uid: str) -> User | None:
    try:
        return User.objects.get(pk=int(urlsafe_base64_decode(uid).decode()), is_active=True)
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError, User.DoesNotExist):
        return None


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a password from an emailed link. The link then stops working: the token signs the old hash."""
    user = _user_from_uid(uid)
    if user is None or not password_link_tokens.check_token(user, token):
        raise InvalidInput(
            "This link has expired, was already used, or a newer one was emailed since. Use the newest link or ask"
            " for a new one.",
            code="invalid_link",
        )
    return password_set(user=user, new_password=new_password)


def set_password_link_build(*, user: User, base_url: str) -> str:
    """The link a new parent gets to choose a password: single use, expiring; never a password in an email.

    Only the newest link works: building one replaces the user's link nonce, which every link signs, so the
    links emailed before (a welcome email the owner resent) stop working. Nothing else about the account changes.
    """
    user.password_link_nonce = uuid.uuid4()
    user.save(update_fields=["password_link_nonce"])
    path = reverse(
        "set-password",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": password_link_tokens.make_token(user),
        },
    )
    return base_url.rstrip("/") + path


def token_issue(*, user: User) -> tuple[AuthToken, str]:
    """A new API token: the key is returned once and only its digest is stored."""
    return AuthToken.objects.create(user=user)


def token_revoke(*, token: AuthToken) -> None:
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
    return audited_update(actor=actor, obj=family, family_id=family.pk, **fields)


@transaction.atomic(savepoint=False)  # as cedarheights.services.audited_create
def _user_create(*, actor, email: str, **fields) -> User:
    # Not `audited_create`: the manager makes the password unusable, and the audit row lists what was typed, not it.
    fields = {"email": normalize_email(email), **fields}
    user = User.objects.create_user(**fields)
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, obj=user, changes={k: [None, str(v)] for k, v in fields.items()}
    )
    return user


def parent_create(*, actor, family: Family, email: str, first_name: str, last_name: str, phone: str) -> User:
    """A parent of `family`, without a usable password: they choose one through a set-password link."""
    return _user_create(
        actor=actor,
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        role=User.Role.PARENT,
        family=family,
    )


def staff_create(*, actor, email: str, first_name: str, last_name: str, role: str, superuser: bool = False) -> User:
    """A teacher's or the school's staff's account (role teacher or admin), without a usable password, as a
    parent's: they choose one through an emailed link. An admin signs in to the admin site; a `superuser` admin
    may do everything there."""
    if role not in {User.Role.TEACHER, User.Role.ADMIN}:
        raise InvalidInput("A staff account is a teacher's or an admin's.", fields={"role": ["Teacher or admin."]})
    if superuser and role != User.Role.ADMIN:
        raise InvalidInput("Only an admin can be a superuser.", fields={"role": ["Admin, for a superuser."]})
    return _user_create(
        actor=actor,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        is_staff=role == User.Role.ADMIN,
        is_superuser=superuser,
    )


# The words a parent agrees to for the school's news (the portal's and the enrollment page's box), recorded as shown.
MARKETING_CONSENT_TEXT = "Send me the school's news and offers by email. I can stop them at any time."


@transaction.atomic
def marketing_consent_give(*, actor, parent: User, notice: PrivacyNotice) -> ConsentRecord:
    """The parent's opt-in to the school's news, with the notice version and the words shown. Already given: that
    record; given again after a withdrawal: a new one (the history stays)."""
    list(User.objects.select_for_update().filter(pk=parent.pk).values_list("pk"))  # one choice at a time
    if (in_force := marketing_consent_of(parent)) is not None:
        return in_force
    return audited_create(
        actor=actor,
        model=ConsentRecord,
        family=parent.family,
        purpose=ConsentRecord.Purpose.MARKETING,
        notice=notice,
        text_shown=MARKETING_CONSENT_TEXT,
        given_by=parent,
        given_at=timezone.now(),
    )


@transaction.atomic
def marketing_consent_withdraw(*, actor, parent: User) -> ConsentRecord | None:
    """Stop the school's news to the parent from now: a news email already queued is not sent either (it asks
    again when it is sent). The record withdrawn, or None when none was in force."""
    list(User.objects.select_for_update().filter(pk=parent.pk).values_list("pk"))
    consent = marketing_consent_of(parent)
    if consent is None:
        return None
    return audited_update(actor=actor, obj=consent, withdrawn_at=timezone.now())


@transaction.atomic
def reminder_preferences_set(*, user: User, choices: dict[str, bool], actor) -> list[ReminderChoice]:
    """Turn reminder emails on or off for `user`: kind -> on. Only the kinds their role gets (another is refused and
    nothing changes). A choice is recorded, with its time and an audit event, only when it changes: turning on a
    kind never chosen (so on) writes nothing. The person's choices as they are now."""
    if refused := sorted(set(choices) - set(reminder_kinds_for(user))):
        raise InvalidInput(
            "Only the reminders you get can be turned on or off.",
            fields={kind: ["Not a reminder you get."] for kind in refused},
        )
    # One person's choices are made one at a time: two saves at once never race to create the same row.
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))
    current = {choice.kind: choice.enabled for choice in reminder_preferences_of(user)}
    now = timezone.now()
    for kind, enabled in choices.items():
        if current[kind] == enabled:
            continue
        preference, _ = ReminderPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"enabled": enabled, "changed_at": now}
        )
        audit_record(
            actor=actor, action=AuditEvent.Action.UPDATE, obj=preference, changes={"enabled": [current[kind], enabled]}
        )
    return reminder_preferences_of(user)
