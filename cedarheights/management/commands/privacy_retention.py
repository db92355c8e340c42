from django.core.management.base import BaseCommand

from cedarheights.privacy_retention import RetentionPlan, retention_commit, retention_plan


def plan_lines(plan: RetentionPlan) -> list[str]:
    lines = [
        f"Retention plan for {plan.today:%Y-%m-%d}: lessons before {plan.cutoffs.last_lesson:%Y-%m-%d}, inactive "
        f"since before {plan.cutoffs.inactive:%Y-%m-%d}, financial rows before {plan.cutoffs.financial:%Y-%m-%d}."
    ]
    for family_id, changes in plan.changes_by_family().items():
        lines.append(f"Family #{family_id} {changes[0].family_name}:")
        lines.extend(f"    {change.kind}: {change.what} ({change.reason})" for change in changes)
    for held in plan.held:
        lines.append(f"Kept: family #{held.family_id} {held.family_name}, due ({', '.join(held.due)}): {held.reason}")
    if not plan.held:
        lines.append("Kept although due (a hold, a balance, a running enrollment): none.")
    lines.append(f"Failed sign-in records to delete: {plan.failed_signins}")
    if plan.empty:
        lines.append("Nothing to change.")
    return lines


class Command(BaseCommand):
    help = "Apply the retention schedule of the School settings: --dry-run lists what would change, --commit does it."

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--dry-run", action="store_true", help="List what would change; change nothing.")
        mode.add_argument("--commit", action="store_true", help="Anonymise and delete what is past its period.")

    def handle(self, *args, dry_run: bool, commit: bool, **options):
        if dry_run:
            self.stdout.write("\n".join(plan_lines(retention_plan())))
            return
        outcome = retention_commit()
        self.stdout.write(
            self.style.SUCCESS(
                f"Families anonymised: {len(outcome.families_anonymised)}; families' old descriptions replaced: "
                f"{len(outcome.families_descriptions_removed)}; kept since the plan (hold, balance, enrollment): "
                f"{len(outcome.families_held)}; failed (logged, tried again next run): "
                f"{len(outcome.families_failed)}; failed sign-in records deleted: {outcome.failed_signins_deleted}."
            )
        )
