"""Every email the school sends: logged with what it says, sent by django-q2 after commit, at most once.

Claim, send, record (`email_send`); an email whose send was interrupted is `unconfirmed` and goes again only when
the owner resends it (`email_resend`): a new log row, linked to the old one.
"""

from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.template import engines
from django.template.loader import render_to_string
from django.utils import timezone

from cedarheights.errors import EmailNotResendable
from cedarheights.models import EmailLog
from cedarheights.outbox import task_enqueue_with_commit
from cedarheights.registry import registered
from cedarheights.selectors import privacy_officer, school_settings_get
from cedarheights.services import audit_record
from cedarheights.validators import single_line

Attachment = tuple[str, str, str]  # filename, content, MIME type

# Emails that must not go again as they were sent, because they hold a link only the newest copy may carry (a
# set-password link): template name -> a function that builds the email's context and attachments anew from its
# log row (the row's related object), with fresh links. Filled by `@email_rebuilder` as the apps load (their
# AppConfig.ready() imports the module), so core resends them without importing the apps.
EMAIL_REBUILDERS: dict[str, Callable[[EmailLog], tuple[dict, list[Attachment]]]] = {}

# Emails that go only while their recipient still consents (a reminder kind left on, a marketing opt-in): template
# name -> a function of the log row, true while it may still be sent. Asked when the email is claimed for sending, not
# only when it was queued: a withdrawal stops an email already queued. Filled by `@email_consent_check`, as above.
EMAIL_CONSENT_CHECKS: dict[str, Callable[[EmailLog], bool]] = {}

WITHDRAWN_REASON = "Not sent: the recipient withdrew their consent to this email after it was queued."

# Statuses the owner may resend: nobody knows whether it went (unconfirmed), or the backend refused it (failed;
# its pending retries then send nothing, see `_email_claim`).
RESENDABLE = (EmailLog.Status.UNCONFIRMED, EmailLog.Status.FAILED)

UNCONFIRMED_REASON = "A send was begun and never recorded: it may have gone out, so it was not sent again."


def email_rebuilder(template: str):
    """Register how a resend rebuilds a `template` email: `@email_rebuilder("welcome_parent")`."""
    return registered(EMAIL_REBUILDERS, template, duplicate="Two rebuilders for the {key} email")


def email_consent_check(template: str):
    """Register what a `template` email needs at send time: `@email_consent_check("school_news")`."""
    return registered(EMAIL_CONSENT_CHECKS, template, duplicate="Two consent checks for the {key} email")


def _email_render(template: str, context: dict) -> tuple[str, str, str]:
    """Subject, text and HTML of `templates/emails/<template>.txt` (first line: the subject) and `.html`.

    The text part and subject go through the "text" template engine (no HTML escaping); the HTML part is escaped.
    Every template gets `site_url`, so its links are absolute.
    """
    context = {
        "site_url": settings.SITE_URL,
        "school": school_settings_get(),
        "privacy_officer": privacy_officer(),
        **context,
    }
    # The first line is rendered alone and made one line: it is a header, whatever a name in it holds.
    text = engines["text"]
    subject_source, _, body_source = text.get_template(f"emails/{template}.txt").template.source.partition("\n")
    subject = single_line(text.from_string(subject_source).render(context))
    body = text.from_string(body_source).render(context).lstrip("\n").rstrip() + "\n"
    html = render_to_string(f"emails/{template}.html", context)
    # Every email names the privacy officer (PIPEDA principle 1), added here once rather than in each template.
    body += text.get_template("emails/_privacy_footer.txt").render(context)
    html += render_to_string("emails/_privacy_footer.html", context)
    return subject[:255], body, html


def _send_after_commit(log: EmailLog) -> None:
    """The send task, recorded in the caller's transaction: it runs once that commits, and never if it rolls back."""
    task_enqueue_with_commit("cedarheights.emails.email_send", log.pk)


def email_queue(
    *,
    to: str,
    template: str,
    context: dict,
    related: models.Model | None = None,
    dedupe_key: str | None = None,
    attachments: list[Attachment] | None = None,
) -> EmailLog | None:
    """Log an email with what it says, and send it in the background once the transaction commits.

    It is rendered now and stored on the row, so what is sent (and what a resend sends) is what the log shows.
    With a `dedupe_key` the same email is queued once, ever.
    """
    subject, body, html = _email_render(template, context)
    try:
        with transaction.atomic():
            log = EmailLog.objects.create(
                recipient=to,
                template=template,
                subject=subject,
                text_body=body,
                html_body=html,
                attachments=attachments or [],
                dedupe_key=dedupe_key,
                related_type=ContentType.objects.get_for_model(related) if related is not None else None,
                related_id=str(related.pk) if related is not None else "",
            )
    except IntegrityError:
        return None  # already queued under this key
    _send_after_commit(log)
    return log


@transaction.atomic(durable=True)
def email_resend(*, email_log: EmailLog, actor) -> EmailLog:
    """The owner's resend of an unconfirmed or failed email: a new log row, `resend_of` the old one, sent once.

    The old row is locked and keeps its status (the log stays a true record); an email is resent once (the
    second click finds `resent_as` and is refused; the one-to-one column is the database's last word). A
    template with a rebuilder is rendered anew (a fresh set-password link, which makes the old one stop
    working); any other email goes again as it was stored.
    """
    old = EmailLog.objects.select_for_update().get(pk=email_log.pk)
    if old.status not in RESENDABLE:
        raise EmailNotResendable(
            f"Email #{old.pk} is {old.get_status_display().lower()}: only an unconfirmed or failed email is resent."
        )
    if (already := EmailLog.objects.filter(resend_of=old).first()) is not None:
        raise EmailNotResendable(f"Email #{old.pk} was already resent as #{already.pk}.")
    if rebuild := EMAIL_REBUILDERS.get(old.template):
        context, attachments = rebuild(old)
        subject, body, html = _email_render(old.template, context)
    elif old.text_body:
        subject, body, html, attachments = old.subject, old.text_body, old.html_body, old.attachments
    else:
        raise EmailNotResendable(f"Email #{old.pk} was logged before emails kept what they said: write it anew.")
    new = EmailLog.objects.create(
        recipient=old.recipient,
        template=old.template,
        subject=subject,
        text_body=body,
        html_body=html,
        attachments=attachments,
        related_type=old.related_type,
        related_id=old.related_id,
        resend_of=old,
    )
    audit_record(actor=actor, action="create", obj=new, changes={"resend_of": [None, old.pk]})
    _send_after_commit(new)
    return new


def email_send(email_log_id: int, body: str = "", html: str = "", attachments: list | None = None) -> None:
    """django-q2 task: send a logged email at most once, even when the task runs again.

    Claim, send, record: the row is claimed as `sending` in a transaction that commits before the backend is
    called, and the outcome is recorded after it. A run that finds its email `sent` does nothing. A run that
    finds it `sending` knows an earlier run began to send and never recorded how it went (the process died, or
    the database refused the record): the email may have gone out, so the row becomes `unconfirmed` for the
    owner to check (and resend), and nothing is sent again. A backend that raises has sent nothing: the row is
    `failed` and the task's retry sends it.

    What is sent is read from the row. `body`, `html` and `attachments` are for tasks queued before the row
    kept its content (migration 0009): those rows have no text, and are sent from the task's arguments.
    """
    log = _email_claim(email_log_id)
    if log is None:
        return
    if log.text_body:
        body, html, attachments = log.text_body, log.html_body, log.attachments
    message = EmailMultiAlternatives(log.subject, body, settings.DEFAULT_FROM_EMAIL, [log.recipient])
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments or []:
        message.attach(filename, content, mimetype)
    try:
        message.send()
    except Exception as error:  # any backend failure is recorded for the owner, then retried
        EmailLog.objects.filter(pk=log.pk).update(
            status=EmailLog.Status.FAILED, error=f"{type(error).__name__}: {error}"
        )
        raise
    EmailLog.objects.filter(pk=log.pk).update(status=EmailLog.Status.SENT, sent_at=timezone.now(), error="")


@transaction.atomic(durable=True)
def _email_claim(email_log_id: int) -> EmailLog | None:
    """The row to send, now `sending` and committed, or None when this run must not send."""
    log = EmailLog.objects.select_for_update().get(pk=email_log_id)
    if log.status == EmailLog.Status.SENDING:
        log.status = EmailLog.Status.UNCONFIRMED
        log.error = UNCONFIRMED_REASON
        log.save(update_fields=["status", "error"])
        return None
    if log.status not in (EmailLog.Status.QUEUED, EmailLog.Status.FAILED):
        return None
    if EmailLog.objects.filter(resend_of=log).exists():
        return None  # a failed email the owner resent: its new row sends it, this retry must not
    if (consents := EMAIL_CONSENT_CHECKS.get(log.template)) is not None and not consents(log):
        log.status = EmailLog.Status.WITHDRAWN
        log.error = WITHDRAWN_REASON
        log.save(update_fields=["status", "error"])
        return None
    log.status = EmailLog.Status.SENDING
    log.save(update_fields=["status"])
    return log


def email_keys_used(keys: Iterable[str]) -> set[str]:
    """Those of `keys` an email was already queued under: a job that runs again skips rendering the emails their keys
    would refuse."""
    return set(EmailLog.objects.filter(dedupe_key__in=list(keys)).values_list("dedupe_key", flat=True))


def email_parents(
    *,
    family,
    template: str,
    context: dict,
    dedupe_key: str,
    related: models.Model | None = None,
    attachments: list[Attachment] | None = None,
) -> list[EmailLog]:
    """The same email to every parent of a family, each once (the key is made per parent): the emails queued now."""
    queued = (
        email_queue(
            attachments=attachments,
            to=parent.email,
            template=template,
            related=related,
            dedupe_key=f"{dedupe_key}:{parent.pk}",
            context={**context, "parent": parent},
        )
        for parent in family.parents.all()
    )
    return [log for log in queued if log is not None]


def email_owner(*, template: str, context: dict, dedupe_key: str, related: models.Model | None = None) -> None:
    """An email to the school's contact address (School settings)."""
    email_queue(
        to=school_settings_get().contact_email,
        template=template,
        related=related,
        dedupe_key=dedupe_key,
        context=context,
    )
