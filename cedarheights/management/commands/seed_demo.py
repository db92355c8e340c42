from django.core.management.base import BaseCommand

from cedarheights.demo import ADMIN_EMAIL, ADMIN_PASSWORD, DEMO_PASSWORD, demo_school_seed


class Command(BaseCommand):
    help = "Load a believable demo school (teachers, families, students, a term, lessons). Safe to run again."

    def handle(self, *args, **options):
        counts = demo_school_seed()
        self.stdout.write(self.style.SUCCESS("Demo school ready: " + ", ".join(f"{n} {k}" for k, n in counts.items())))
        self.stdout.write(
            f"Admin: {ADMIN_EMAIL} / {ADMIN_PASSWORD}   Parents and teachers: <their email> / {DEMO_PASSWORD}"
        )
