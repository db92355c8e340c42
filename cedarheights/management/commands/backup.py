from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cedarheights.backups import BackupRefused, backup_create


class Command(BaseCommand):
    help = "Write a PostgreSQL custom-format dump and its manifest (what the dump holds) to BACKUP_DIR."

    def handle(self, *args, **options):
        try:
            backup = backup_create(directory=Path(settings.BACKUP_DIR))
        except BackupRefused as error:  # 2: a database this cannot back up (SQLite); pg_dump failing also says why
            raise CommandError(str(error), returncode=2) from error
        manifest = backup.manifest
        self.stdout.write(f"dump:     {backup.dump} ({manifest['dump']['size_bytes']} bytes)")
        self.stdout.write(f"manifest: {backup.manifest_path}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up as of {manifest['started_at']}: {len(manifest['table_row_counts'])} tables, "
                f"{len(manifest['family_balances_cents'])} families' balances, "
                f"latest Stripe event {manifest['latest_stripe_event_id']}"
            )
        )
