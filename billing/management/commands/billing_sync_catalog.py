from django.core.management.base import BaseCommand, CommandError

from billing.services.catalog import catalog_sync
from cedarheights.errors import DomainError


class Command(BaseCommand):
    help = "Create a Stripe product and price for every active tuition plan that has none. Safe to run again."

    def handle(self, *args, **options):
        def progress(n, total, plan):
            self.stdout.write(f"[{n}/{total}] {plan.name} → {plan.stripe_price_id or 'price created'}")

        try:
            synced = catalog_sync(progress=progress)
        except DomainError as error:  # Stripe out of reach: what was synced before stays; run it again
            raise CommandError(error.message) from error
        if synced:
            self.stdout.write(self.style.SUCCESS(f"{len(synced)} tuition plan(s) given a Stripe price."))
        else:
            self.stdout.write(self.style.SUCCESS("Every active tuition plan already has a Stripe price."))
