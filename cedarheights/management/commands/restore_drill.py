from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cedarheights.backups import BackupRefused, restore_drill


class Command(BaseCommand):
    help = (
        "Restore a backup into a scratch database, migrate it, compare it with its manifest (every table's rows, "
        "every family's balance, the latest Stripe event) and run billing_reconcile on it; exits 1 on a difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dump", type=Path, default=None, help="the dump (default: the newest in BACKUP_DIR)")
        parser.add_argument("--keep", action="store_true", help="keep the scratch database to look at")

    def handle(self, *args, dump: Path | None = None, keep: bool = False, **options):
        try:
            report = restore_drill(directory=Path(settings.BACKUP_DIR), dump=dump, keep=keep)
        except BackupRefused as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(f"dump: {report.dump}")
        self.stdout.write(f"scratch database: {report.database} ({'kept' if report.kept else 'dropped'})")
        for check in report.checks:
            status = self.style.SUCCESS("ok") if check.ok else self.style.ERROR("DIFFERS")
            self.stdout.write(f"{check.name}: {status}")
            for line in [*check.differences, check.note] if check.note else check.differences:
                self.stdout.write("  " + line.replace("\n", "\n  "))
        failed = [check.name for check in report.checks if not check.ok]
        if failed:
            raise CommandError(f"Restore drill failed on: {'; '.join(failed)}.")
        self.stdout.write(self.style.SUCCESS("Restore drill passed: the restore holds what the manifest says."))
