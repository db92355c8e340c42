from django.core.management.base import BaseCommand

from billing.services.dunning import billing_retry_due


class Command(BaseCommand):
    help = "Retry every failed payment that is due (django-q2 also runs this every hour)."

    def handle(self, *args, **options):
        results = billing_retry_due()
        for failure in results:
            self.stdout.write(f"{failure.family}: {failure.get_status_display()} ({failure.reason})")
        self.stdout.write(self.style.SUCCESS(f"{len(results)} retr{'y' if len(results) == 1 else 'ies'} run."))
