"""Who and what the demo school is: its people, its plans, its calendar and the month of billing the owner
finds, as data. `build` makes them through the services; nothing here writes."""

from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum

from billing.models import TuitionSubscription
from cedarheights.weekly import Weekday
from enrollment.models import TuitionPlan

MON, TUE, WED, THU, FRI, SAT, SUN = Weekday

ADMIN_EMAIL = "admin@cedarheights.test"
ADMIN_PASSWORD = "cedarheights-admin"
DEMO_PASSWORD = "cedarheights-demo"  # parents and teachers of the demo school


@dataclass(frozen=True, kw_only=True)
class Person:
    email: str
    first_name: str
    last_name: str
    phone: str = ""


OWNER = Person(email=ADMIN_EMAIL, first_name="Amira", last_name="Haddad")


@dataclass(frozen=True, kw_only=True)
class Hours:
    """A weekly window in which a teacher teaches."""

    weekday: Weekday
    start: time
    end: time


@dataclass(frozen=True, kw_only=True)
class DemoTeacher:
    person: Person
    instruments: tuple[str, ...]
    capacity: int
    bio: str
    hours: tuple[Hours, ...]


def _weekdays(*weekdays: Weekday, start: time, end: time) -> tuple[Hours, ...]:
    return tuple(Hours(weekday=weekday, start=start, end=end) for weekday in weekdays)


INSTRUMENTS = ("Piano", "Guitar", "Bass")
ROOMS = ("Studio A", "Studio B", "Studio C")

TEACHERS = (
    DemoTeacher(
        person=Person(email="amelia.hart@cedarheights.test", first_name="Amelia", last_name="Hart"),
        instruments=("Piano",),
        capacity=25,
        bio="Royal Conservatory-trained pianist; patient with beginners of every age.",
        hours=_weekdays(MON, TUE, WED, THU, start=time(15), end=time(20)) + _weekdays(SAT, start=time(9), end=time(13)),
    ),
    DemoTeacher(
        person=Person(email="marco.bellini@cedarheights.test", first_name="Marco", last_name="Bellini"),
        instruments=("Guitar", "Bass"),
        capacity=20,
        bio="Session guitarist and bassist; rock, jazz and classical guitar.",
        hours=_weekdays(TUE, WED, THU, FRI, start=time(15, 30), end=time(20, 30)),
    ),
    DemoTeacher(
        person=Person(email="priya.raman@cedarheights.test", first_name="Priya", last_name="Raman"),
        instruments=("Piano", "Guitar"),
        capacity=18,
        bio="Teaches piano and fingerstyle guitar; loves preparing students for their first recital.",
        hours=_weekdays(MON, WED, start=time(16), end=time(20)) + _weekdays(SAT, start=time(10), end=time(15)),
    ),
    DemoTeacher(
        person=Person(email="dev.okafor@cedarheights.test", first_name="Dev", last_name="Okafor"),
        instruments=("Bass", "Guitar"),
        capacity=15,
        bio="Bassist in a touring funk band; groove, theory and reading.",
        hours=_weekdays(THU, FRI, start=time(16), end=time(21)) + _weekdays(SUN, start=time(11), end=time(15)),
    ),
)


@dataclass(frozen=True, kw_only=True)
class DemoPlan:
    name: str
    instrument: str | None  # None: a plan for every instrument
    minutes: int
    interval: TuitionPlan.Interval
    price_cents: int
    basis: TuitionPlan.Basis = TuitionPlan.Basis.FLAT


MONTH, WEEK = TuitionPlan.Interval.MONTH, TuitionPlan.Interval.WEEK
PLANS = (
    DemoPlan(name="Piano 30 min, monthly", instrument="Piano", minutes=30, interval=MONTH, price_cents=14000),
    DemoPlan(name="Piano 45 min, monthly", instrument="Piano", minutes=45, interval=MONTH, price_cents=19500),
    DemoPlan(name="Guitar or bass 30 min, monthly", instrument=None, minutes=30, interval=MONTH, price_cents=13000),
    DemoPlan(name="Guitar or bass 45 min, monthly", instrument=None, minutes=45, interval=MONTH, price_cents=18500),
    DemoPlan(name="Any instrument 60 min, monthly", instrument=None, minutes=60, interval=MONTH, price_cents=25000),
    DemoPlan(name="Any instrument 30 min, weekly", instrument=None, minutes=30, interval=WEEK, price_cents=3500),
    DemoPlan(
        name="Piano 30 min, per lesson",
        instrument="Piano",
        minutes=30,
        interval=WEEK,
        price_cents=4000,
        basis=TuitionPlan.Basis.PER_LESSON,
    ),
)


@dataclass(frozen=True, kw_only=True)
class DemoChild:
    """A child, the weekly time the family asked for, and the teacher who has that time (None: nobody has it, so
    the child waits on the waitlist)."""

    first_name: str
    last_name: str
    born: date
    instrument: str
    plan: str
    weekday: Weekday
    start: time
    minutes: int
    teacher_email: str | None


@dataclass(frozen=True, kw_only=True)
class DemoFamily:
    name: str
    parent: Person
    city: str
    children: tuple[DemoChild, ...]


FAMILIES = (
    DemoFamily(
        name="Nguyen family",
        parent=Person(email="linh.nguyen@example.com", first_name="Linh", last_name="Nguyen", phone="416-555-0101"),
        city="Toronto",
        children=(
            DemoChild(
                first_name="Ava",
                last_name="Nguyen",
                born=date(2016, 4, 12),
                instrument="Piano",
                plan="Piano 30 min, monthly",
                weekday=MON,
                start=time(16),
                minutes=30,
                teacher_email="amelia.hart@cedarheights.test",
            ),
            DemoChild(
                first_name="Leo",
                last_name="Nguyen",
                born=date(2013, 9, 3),
                instrument="Guitar",
                plan="Guitar or bass 45 min, monthly",
                weekday=TUE,
                start=time(16, 30),
                minutes=45,
                teacher_email="marco.bellini@cedarheights.test",
            ),
        ),
    ),
    DemoFamily(
        name="Tremblay family",
        parent=Person(
            email="julie.tremblay@example.com", first_name="Julie", last_name="Tremblay", phone="416-555-0102"
        ),
        city="Toronto",
        children=(
            DemoChild(
                first_name="Chloé",
                last_name="Tremblay",
                born=date(2015, 2, 20),
                instrument="Piano",
                plan="Piano 30 min, monthly",
                weekday=WED,
                start=time(17),
                minutes=30,
                teacher_email="priya.raman@cedarheights.test",
            ),
        ),
    ),
    DemoFamily(
        name="Okonkwo family",
        parent=Person(email="chidi.okonkwo@example.com", first_name="Chidi", last_name="Okonkwo", phone="647-555-0103"),
        city="Mississauga",
        children=(
            DemoChild(
                first_name="Ada",
                last_name="Okonkwo",
                born=date(2011, 11, 30),
                instrument="Bass",
                plan="Guitar or bass 45 min, monthly",
                weekday=THU,
                start=time(18),
                minutes=45,
                teacher_email="dev.okafor@cedarheights.test",
            ),
        ),
    ),
    DemoFamily(
        name="Singh family",
        parent=Person(
            email="harpreet.singh@example.com", first_name="Harpreet", last_name="Singh", phone="905-555-0104"
        ),
        city="Brampton",
        children=(
            DemoChild(
                first_name="Arjun",
                last_name="Singh",
                born=date(2017, 6, 15),
                instrument="Guitar",
                plan="Guitar or bass 30 min, monthly",
                weekday=SAT,
                start=time(10, 30),
                minutes=30,
                teacher_email="priya.raman@cedarheights.test",
            ),
            # Piano on Sunday mornings, when no piano teacher works: on the waitlist.
            DemoChild(
                first_name="Meera",
                last_name="Singh",
                born=date(2019, 10, 2),
                instrument="Piano",
                plan="Piano 30 min, monthly",
                weekday=SUN,
                start=time(9),
                minutes=30,
                teacher_email=None,
            ),
        ),
    ),
    DemoFamily(
        name="MacDonald family",
        parent=Person(
            email="fiona.macdonald@example.com", first_name="Fiona", last_name="MacDonald", phone="416-555-0105"
        ),
        city="Toronto",
        children=(
            DemoChild(
                first_name="Ewan",
                last_name="MacDonald",
                born=date(2009, 1, 22),
                instrument="Bass",
                plan="Any instrument 60 min, monthly",
                weekday=FRI,
                start=time(17),
                minutes=60,
                teacher_email="marco.bellini@cedarheights.test",
            ),
        ),
    ),
    DemoFamily(
        name="Rossi family",
        parent=Person(email="giulia.rossi@example.com", first_name="Giulia", last_name="Rossi", phone="647-555-0106"),
        city="Toronto",
        children=(
            DemoChild(
                first_name="Sofia",
                last_name="Rossi",
                born=date(2018, 3, 8),
                instrument="Piano",
                plan="Piano 30 min, per lesson",  # with the school's no-show fee (cedarheights.demo.lesson_week)
                weekday=SAT,
                start=time(9, 30),
                minutes=30,
                teacher_email="amelia.hart@cedarheights.test",
            ),
        ),
    ),
    DemoFamily(
        name="Chen household",
        parent=Person(email="wei.chen@example.com", first_name="Wei", last_name="Chen", phone="416-555-0107"),
        city="Toronto",
        children=(
            DemoChild(
                first_name="Wei",
                last_name="Chen",
                born=date(1984, 7, 19),
                instrument="Piano",
                plan="Any instrument 60 min, monthly",
                weekday=WED,
                start=time(19),
                minutes=60,
                teacher_email="amelia.hart@cedarheights.test",
            ),
        ),
    ),
)


class Outcome(StrEnum):
    """How a family's charge of the month went."""

    PAID = "paid"
    REFUNDED = "refunded"  # paid, then a cancelled lesson's share credited and refunded
    DECLINED = "declined"  # the card declined: retries scheduled, the month still owed


@dataclass(frozen=True, kw_only=True)
class DemoBilling:
    """One family's month of tuition: its card, its subscriptions' state, and how the month's charge went."""

    family: str
    card_last4: str
    subscription_status: TuitionSubscription.Status
    outcome: Outcome


ACTIVE, PAST_DUE = TuitionSubscription.Status.ACTIVE, TuitionSubscription.Status.PAST_DUE
BILLING = (
    DemoBilling(family="Nguyen family", card_last4="4242", subscription_status=ACTIVE, outcome=Outcome.PAID),
    DemoBilling(family="Tremblay family", card_last4="4444", subscription_status=ACTIVE, outcome=Outcome.REFUNDED),
    DemoBilling(family="Okonkwo family", card_last4="0341", subscription_status=PAST_DUE, outcome=Outcome.DECLINED),
)

# What a worker killed mid-work left (see `fakes.worker_died_mid_work`).
UNCONFIRMED_FAMILY = "MacDonald family"  # its welcome email: it may have gone out
LOST_HANDOFF_FAMILY = "Rossi family"  # its billing: never reached the worker
LOST_HANDOFF_CARD = "pm_card_visa"  # the local Stripe server's test card, which the worker then bills


@dataclass(frozen=True, kw_only=True)
class DemoTerm:
    name: str
    start: date
    end: date


@dataclass(frozen=True, kw_only=True)
class DemoClosure:
    reason: str
    start: date
    end: date
    term: str


@dataclass(frozen=True, kw_only=True)
class DemoYear:
    name: str
    start: date
    end: date
    terms: tuple[DemoTerm, ...]
    closures: tuple[DemoClosure, ...]
    consented_on: date  # the day the families agreed to the privacy policy, the summer before


def _nth_weekday(year: int, month: int, weekday: Weekday, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _day(reason: str, day: date, term: str) -> DemoClosure:
    return DemoClosure(reason=reason, start=day, end=day, term=term)


def school_year(today: date) -> DemoYear:
    """The academic year around `today` (September to August): four terms that cover it whole, with Ontario's
    usual closures."""
    first = today.year if today.month >= 9 else today.year - 1
    second = first + 1
    march_break = _nth_weekday(second, 3, MON, 2)
    victoria_day = date(second, 5, 25) - timedelta(days=date(second, 5, 25).weekday() or 7)  # the Monday before
    return DemoYear(
        name=f"{first}–{second}",
        start=date(first, 9, 1),
        end=date(second, 8, 31),
        terms=(
            DemoTerm(name="Fall", start=date(first, 9, 1), end=date(first, 12, 31)),
            DemoTerm(name="Winter", start=date(second, 1, 1), end=date(second, 3, 31)),
            DemoTerm(name="Spring", start=date(second, 4, 1), end=date(second, 6, 30)),
            DemoTerm(name="Summer", start=date(second, 7, 1), end=date(second, 8, 31)),
        ),
        closures=(
            _day("Labour Day", _nth_weekday(first, 9, MON, 1), "Fall"),
            _day("Thanksgiving", _nth_weekday(first, 10, MON, 2), "Fall"),
            DemoClosure(reason="Winter break", start=date(first, 12, 21), end=date(first, 12, 31), term="Fall"),
            DemoClosure(reason="Winter break", start=date(second, 1, 1), end=date(second, 1, 3), term="Winter"),
            _day("Family Day", _nth_weekday(second, 2, MON, 3), "Winter"),
            DemoClosure(reason="March Break", start=march_break, end=march_break + timedelta(days=6), term="Winter"),
            _day("Victoria Day", victoria_day, "Spring"),
            _day("Canada Day", date(second, 7, 1), "Summer"),
            _day("Civic Holiday", _nth_weekday(second, 8, MON, 1), "Summer"),
        ),
        consented_on=date(first, 8, 20),
    )
