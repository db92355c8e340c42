from django.core.management.base import BaseCommand

from cedarheights.demo.calendars import demo_calendar_links


class Command(BaseCommand):
    help = "Print the demo's calendar links (a family's, a teacher's, the owner's), as `make run` does."

    def handle(self, *args, **options):
        for whose, url in demo_calendar_links():
            shown = url or "replaced or turned off since: make a new one on the calendar page"
            self.stdout.write(f"    {whose}: {shown}")
