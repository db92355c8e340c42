"""The retention schedule, run (PIPEDA principle 5): each family whose records are past the period the School settings
give is anonymised by the apps that own its rows, and old failed sign-ins are deleted. `retention_plan` says what
would change and why, writing nothing (`manage.py privacy_retention --dry-run`); `retention_commit` applies it, each
family in its own transaction, nightly (django-q2, cedarheights migration 0017) and by `--commit`. A second run
finds nothing left to do.

Never touched: a family on legal hold (an open access or correction request), one that owes or is owed money, one
with an enrollment still running; the breach register; the audit table."""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from accounts.models import Family
from accounts.retention import failed_signins_count, failed_signins_prune, family_anonymise, family_last_sign_in
from accounts.selectors import family_ids_on_legal_hold
from billing.retention import (
    family_balances,
    family_financial_descriptions_pending,
    family_financial_descriptions_remove,
    family_last_billing_activity,
)
from cedarheights.periods import local_midnight
from cedarheights.selectors import school_settings_get, school_today
from enrollment.retention import family_ids_with_live_enrollment, family_last_enrollment_activity
from scheduling.retention import (
    family_lesson_histories,
    family_students_anonymise,
    family_students_pending_anonymisation,
)

logger = logging.getLogger(__name__)

LESSONS = "lessons"  # lesson records and notes past their period after the family's last lesson
INACTIVE = "inactive"  # never a regular lesson, and no activity for the period
FINANCIAL = "financial"  # ledger lines and payments past the financial period


@dataclass(frozen=True)
class Cutoffs:
    """Records before these instants are past their period."""

    last_lesson: datetime
    inactive: datetime
    financial: datetime
    failed_signin: datetime

    @classmethod
    def for_today(cls, today: date) -> "Cutoffs":
        school = school_settings_get()
        zone = school.zone
        return cls(
            last_lesson=local_midnight(today - relativedelta(years=school.retain_lesson_years), zone),
            inactive=local_midnight(today - relativedelta(months=school.retain_inactive_months), zone),
            # A record belongs to its calendar (tax) year and is kept for the years after that year ends.
            financial=local_midnight(date(today.year - school.retain_financial_years, 1, 1), zone),
            failed_signin=timezone.now() - timedelta(days=school.retain_failed_signin_days),
        )


@dataclass(frozen=True)
class PlannedChange:
    family_id: int
    family_name: str
    kind: str
    reason: str
    what: str


@dataclass(frozen=True)
class HeldFamily:
    family_id: int
    family_name: str
    due: tuple[str, ...]
    reason: str


@dataclass
class RetentionPlan:
    today: date
    cutoffs: Cutoffs
    changes: list[PlannedChange] = field(default_factory=list)
    held: list[HeldFamily] = field(default_factory=list)
    failed_signins: int = 0

    def changes_by_family(self) -> dict[int, list[PlannedChange]]:
        grouped: dict[int, list[PlannedChange]] = defaultdict(list)
        for change in self.changes:
            grouped[change.family_id].append(change)
        return dict(grouped)

    @property
    def empty(self) -> bool:
        return not self.changes and not self.failed_signins


@dataclass
class RetentionOutcome:
    families_anonymised: list[int] = field(default_factory=list)
    families_descriptions_removed: list[int] = field(default_factory=list)
    families_held: list[int] = field(default_factory=list)
    families_failed: list[int] = field(default_factory=list)
    failed_signins_deleted: int = 0


def _anonymising(*, children: int, lessons: int) -> str:
    return (
        f"anonymise the parents and the family, {children} child{pluralize(children, 'ren')} and the notes of "
        f"{lessons} lesson{pluralize(lessons)}"
    )


def _day(moment: datetime) -> str:
    return f"{timezone.localtime(moment, school_settings_get().zone):%Y-%m-%d}"


def _reason_held(family_id: int, *, on_hold: set[int], balances: dict[int, int], live: set[int]) -> str | None:
    if family_id in on_hold:
        return "legal hold: an access or correction request is open"
    if balances.get(family_id, 0) != 0:
        return f"open balance of {balances[family_id] / 100:.2f}"
    if family_id in live:
        return "an enrollment is still running"
    return None


def retention_plan(*, today: date | None = None) -> RetentionPlan:
    """What the retention job would change today, per family and kind, with the reason; writes nothing."""
    today = today or school_today()
    school = school_settings_get()
    cutoffs = Cutoffs.for_today(today)
    plan = RetentionPlan(today=today, cutoffs=cutoffs)
    families = list(Family.objects.order_by("pk").values("pk", "name", "created_at", "anonymised_at"))
    ids = [row["pk"] for row in families]
    histories = family_lesson_histories(family_ids=ids)
    activity_sources = (
        family_last_enrollment_activity(family_ids=ids),
        family_last_billing_activity(family_ids=ids),
        family_last_sign_in(family_ids=ids),
    )
    on_hold = family_ids_on_legal_hold()
    balances = family_balances(family_ids=ids)
    live = family_ids_with_live_enrollment(family_ids=ids)

    for row in families:
        family_id, name = row["pk"], row["name"]
        due: list[PlannedChange] = []
        history = histories.get(family_id)
        if row["anonymised_at"] is None and history and history.had_regular_lesson:
            if history.last_lesson_at < cutoffs.last_lesson:
                children, lessons = family_students_pending_anonymisation(family_id=family_id)
                due.append(
                    PlannedChange(
                        family_id,
                        name,
                        LESSONS,
                        f"last lesson on {_day(history.last_lesson_at)}, more than {school.retain_lesson_years} "
                        f"years ago",
                        _anonymising(children=children, lessons=lessons),
                    )
                )
        elif row["anonymised_at"] is None:
            moments = [row["created_at"], *(source[family_id] for source in activity_sources if family_id in source)]
            if history:
                moments.append(history.last_lesson_at)
            last_activity = max(moments)
            if last_activity < cutoffs.inactive:
                children, lessons = family_students_pending_anonymisation(family_id=family_id)
                due.append(
                    PlannedChange(
                        family_id,
                        name,
                        INACTIVE,
                        f"never had a regular lesson; last activity on {_day(last_activity)}, more than "
                        f"{school.retain_inactive_months} months ago",
                        _anonymising(children=children, lessons=lessons),
                    )
                )
        described = family_financial_descriptions_pending(family_id=family_id, before=cutoffs.financial)
        if described:
            due.append(
                PlannedChange(
                    family_id,
                    name,
                    FINANCIAL,
                    f"ledger lines and payments from before {cutoffs.financial.year}, past the "
                    f"{school.retain_financial_years} years after their year",
                    f"{described} descriptions replaced; amounts kept",
                )
            )
        if not due:
            continue
        if held := _reason_held(family_id, on_hold=on_hold, balances=balances, live=live):
            plan.held.append(HeldFamily(family_id, name, tuple(change.kind for change in due), held))
        else:
            plan.changes.extend(due)
    plan.failed_signins = failed_signins_count(before=cutoffs.failed_signin)
    return plan


def _family_apply(*, family_id: int, kinds: set[str], cutoffs: Cutoffs, outcome: RetentionOutcome) -> None:
    with transaction.atomic():
        family = Family.objects.select_for_update().get(pk=family_id)
        # A request or a charge may have come since the plan was read: the lock makes this check the last word.
        held = _reason_held(
            family_id,
            on_hold=family_ids_on_legal_hold(),
            balances=family_balances(family_ids=[family_id]),
            live=family_ids_with_live_enrollment(family_ids=[family_id]),
        )
        if held:
            outcome.families_held.append(family_id)
            return
        if kinds & {LESSONS, INACTIVE}:
            family_students_anonymise(family_id=family_id)
            family_anonymise(family=family)
            outcome.families_anonymised.append(family_id)
        if FINANCIAL in kinds:
            family_financial_descriptions_remove(family_id=family_id, before=cutoffs.financial)
            outcome.families_descriptions_removed.append(family_id)


def retention_commit(*, today: date | None = None) -> RetentionOutcome:
    """Apply today's plan: each family in its own transaction (one refused or failing leaves the others done), then
    delete the failed sign-ins past their period. Run nightly by django-q2."""
    plan = retention_plan(today=today)
    outcome = RetentionOutcome()
    for family_id, changes in plan.changes_by_family().items():
        try:
            _family_apply(
                family_id=family_id, kinds={change.kind for change in changes}, cutoffs=plan.cutoffs, outcome=outcome
            )
        except Exception:
            # One family's failure (rolled back whole) is logged and tried again tomorrow; the others go on.
            logger.exception("Retention failed for family %s", family_id)
            outcome.families_failed.append(family_id)
    outcome.failed_signins_deleted = failed_signins_prune(before=plan.cutoffs.failed_signin)
    return outcome
