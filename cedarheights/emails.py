"""Every email the school sends: logged, sent by django-q2 after commit, and sent once per dedupe key."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.template import engines
from django.template.loader import render_to_string
from django.utils import timezone

from cedarheights.models import EmailLog
from cedarheights.outbox import task_enqueue_with_commit
from cedarheights.selectors import school_settings_get
from cedarheights.validators import single_line


def email_queue(
    *,
    to: str,
    template: str,
    context: dict,
    related: models.Model | None = None,
    dedupe_key: str | None = None,
    attachments: list[tuple[str, str, str]] | None = None,
) -> EmailLog | None:
    """Log an email and send it in the background once the transaction commits.

    `templates/emails/<template>.txt` (first line: the subject) and `.html` are rendered now, so what
    was sent is what the log shows. With a `dedupe_key` the same email is queued once, ever. The text
    part and subject go through the "text" template engine (no HTML escaping); the HTML part is escaped.
    Every template gets `site_url`, so its links are absolute.
    """
    context = {"site_url": settings.SITE_URL, **context}
    # The first line is rendered alone and made one line: it is a header, whatever a name in it holds.
    text = engines["text"]
    subject_source, _, body_source = text.get_template(f"emails/{template}.txt").template.source.partition("\n")
    subject = single_line(text.from_string(subject_source).render(context))
    body = text.from_string(body_source).render(context)
    try:
        with transaction.atomic():
            log = EmailLog.objects.create(
                recipient=to,
                template=template,
                subject=subject[:255],
                dedupe_key=dedupe_key,
                related_type=ContentType.objects.get_for_model(related) if related is not None else None,
                related_id=str(related.pk) if related is not None else "",
            )
    except IntegrityError:
        return None  # already queued under this key
    html = render_to_string(f"emails/{template}.html", context)
    files = attachments or []
    task_enqueue_with_commit("cedarheights.emails.email_send", log.pk, body.lstrip("\n"), html, files)
    return log


def email_send(email_log_id: int, body: str, html: str, attachments: list | None = None) -> None:
    """django-q2 task: send a logged email at most once, even when the task runs again.

    Claim, send, record: the row is claimed as `sending` in a transaction that commits before the backend is
    called, and the outcome is recorded after it. A run that finds its email `sent` does nothing. A run that
    finds it `sending` knows an earlier run began to send and never recorded how it went (the process died, or
    the database refused the record): the email may have gone out, so the row becomes `unconfirmed` for the
    owner to check, and nothing is sent again. A backend that raises has sent nothing: the row is `failed`
    and the task's retry sends it.
    """
    log = _email_claim(email_log_id)
    if log is None:
        return
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
        log.error = "A send was begun and never recorded: it may have gone out, so it was not sent again."
        log.save(update_fields=["status", "error"])
        return None
    if log.status not in (EmailLog.Status.QUEUED, EmailLog.Status.FAILED):
        return None
    log.status = EmailLog.Status.SENDING
    log.save(update_fields=["status"])
    return log


def email_parents(
    *,
    family,
    template: str,
    context: dict,
    dedupe_key: str,
    related: models.Model | None = None,
    attachments: list[tuple[str, str, str]] | None = None,
) -> None:
    """The same email to every parent of a family, each once (the key is made per parent)."""
    for parent in family.parents.all():
        email_queue(
            attachments=attachments,
            to=parent.email,
            template=template,
            related=related,
            dedupe_key=f"{dedupe_key}:{parent.pk}",
            context={**context, "parent": parent},
        )


def email_owner(*, template: str, context: dict, dedupe_key: str, related: models.Model | None = None) -> None:
    """An email to the school's contact address (School settings)."""
    email_queue(
        to=school_settings_get().contact_email,
        template=template,
        related=related,
        dedupe_key=dedupe_key,
        context=context,
    )
