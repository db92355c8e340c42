from django.core.management.base import BaseCommand, CommandError

from billing.reconcile import billing_reconcile
from cedarheights.errors import DomainError


class Command(BaseCommand):
    help = "Compare billing records with Stripe and list what differs; --commit repairs what is safe to repair."

    def add_arguments(self, parser):
        parser.add_argument("--commit", action="store_true", help="repair the mismatches that can be repaired")

    def handle(self, *args, commit: bool = False, **options):
        def progress(n, total):
            if n % 50 == 0 or n == total:
                self.stderr.write(f"checked {n}/{total}")

        try:
            mismatches = billing_reconcile(commit=commit, progress=progress)
        except DomainError as error:  # Stripe out of reach: what was repaired before stays; run it again
            raise CommandError(error.message) from error
        for mismatch in mismatches:
            self.stdout.write(("repaired: " if commit and mismatch.repair else "") + str(mismatch))
        verdict = f"{len(mismatches)} mismatch(es)" + (" — repaired what could be" if commit and mismatches else "")
        self.stdout.write(self.style.SUCCESS(verdict) if not mismatches else self.style.WARNING(verdict))
