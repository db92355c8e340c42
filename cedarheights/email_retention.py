"""The email log's part of the retention schedule: a copy of an email keeps who it went to and what it said, so
once its recipient is anonymised (accounts.retention) the copy goes too; the row stays (when, which template,
delivered or not) for the school's statistics."""

from django.db import transaction

from cedarheights.models import EmailLog

REMOVED_SUBJECT = "(removed under the retention schedule)"


@transaction.atomic(savepoint=False)
def email_log_anonymise(*, recipient: str, replacement: str) -> int:
    """Readdress the emails sent to `recipient` to `replacement` and empty their subject, bodies and attachments;
    the number of emails changed."""
    return EmailLog.objects.filter(recipient__iexact=recipient).update(
        recipient=replacement, subject=REMOVED_SUBJECT, text_body="", html_body="", attachments=[]
    )
