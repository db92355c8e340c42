"""The owner's "School news": an email to every parent who opted in to the school's news (marketing consent),
asked again as each email is sent, so a parent who withdraws gets nothing more from that minute."""

from django.db import transaction
from django.utils import timezone

from accounts.errors import NewsAlreadySent
from accounts.models import SchoolNews
from accounts.selectors import marketing_opted_in, parents_opted_in_to_marketing
from cedarheights.emails import email_consent_check, email_queue
from cedarheights.models import EmailLog

NEWS_TEMPLATE = "school_news"


@email_consent_check(NEWS_TEMPLATE)
def _still_opted_in(log: EmailLog) -> bool:
    return marketing_opted_in(email=log.recipient)


@transaction.atomic
def school_news_send(*, actor, news: SchoolNews) -> int:
    """Queue the news to each parent opted in now, once each (a second send is refused); the number queued."""
    news = SchoolNews.objects.select_for_update().get(pk=news.pk)
    if news.sent_at is not None:
        raise NewsAlreadySent(f"“{news.subject}” was sent on {timezone.localtime(news.sent_at):%Y-%m-%d %H:%M}.")
    queued = 0
    for parent in parents_opted_in_to_marketing().order_by("pk"):
        log = email_queue(
            to=parent.email,
            template=NEWS_TEMPLATE,
            related=news,
            dedupe_key=f"school-news:{news.pk}:{parent.pk}",
            context={"parent": parent, "news": news},
        )
        queued += log is not None
    news.sent_at, news.sent_by = timezone.now(), actor
    news.save(update_fields=["sent_at", "sent_by"])
    return queued
