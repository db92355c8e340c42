from datetime import UTC, date, time, timedelta

import factory
from django.conf import settings
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Family, User
from billing.models import LedgerEntry, LessonFee, Payment
from cedarheights.selectors import privacy_notice_current
from enrollment.consents import consent_text
from enrollment.inputs import ChildInput, EnrollmentInput
from enrollment.models import ChildConsent, Enrollment, TuitionPlan
from scheduling.models import AcademicYear, Closure, Instrument, Room, Student, Teacher, Term, WeeklyAvailability
from scheduling.slots import Window
from tests.stripe_server import LocalStripe

GOOD_CARD = "4242424242424242"


def years_ago(years: int) -> date:
    """A birth date `years` old today (a day either side over leap years): tests never age out."""
    return timezone.localdate() - timedelta(days=round(years * 365.25))


def school_year_start(n: int) -> date:
    """1 September of the `n`-th school year from the current one: each factory year its own, never past."""
    today = timezone.localdate()
    return date(today.year - (today.month < 9) + n, 9, 1)


class FamilyFactory(DjangoModelFactory):
    class Meta:
        model = Family

    name = factory.Sequence(lambda n: f"Family {n}")
    city = "Toronto"
    province = "ON"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = User.Role.PARENT
    password = factory.PostGenerationMethodCall("set_password", "a-long-test-password-1")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class ParentFactory(UserFactory):
    family = factory.SubFactory(FamilyFactory)


class InstrumentFactory(DjangoModelFactory):
    class Meta:
        model = Instrument
        django_get_or_create = ["name"]

    name = "Piano"


class TeacherFactory(DjangoModelFactory):
    class Meta:
        model = Teacher
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role=User.Role.TEACHER)
    capacity = 20

    @factory.post_generation
    def instruments(self, create, extracted, **kwargs):
        if create:
            self.instruments.set(extracted or [InstrumentFactory()])


class AvailabilityFactory(DjangoModelFactory):
    class Meta:
        model = WeeklyAvailability

    teacher = factory.SubFactory(TeacherFactory)
    weekday = 0
    start_time = "16:00"
    end_time = "18:00"


class StudentFactory(DjangoModelFactory):
    class Meta:
        model = Student

    family = factory.SubFactory(FamilyFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.LazyFunction(lambda: years_ago(11))
    instrument = factory.SubFactory(InstrumentFactory)
    status = Student.Status.ACTIVE


class RoomFactory(DjangoModelFactory):
    class Meta:
        model = Room

    name = factory.Sequence(lambda n: f"Studio {n}")


class AcademicYearFactory(DjangoModelFactory):
    class Meta:
        model = AcademicYear

    name = factory.Sequence(lambda n: f"Year {n}")
    start_date = factory.Sequence(school_year_start)  # school years never overlap, as terms must not
    end_date = factory.LazyAttribute(lambda year: year.start_date.replace(year=year.start_date.year + 1) - timedelta(1))


class TermFactory(DjangoModelFactory):
    class Meta:
        model = Term

    academic_year = factory.SubFactory(AcademicYearFactory)
    name = factory.Sequence(lambda n: f"Term {n}")
    start_date = factory.SelfAttribute("academic_year.start_date")  # the fall term of its year
    end_date = factory.LazyAttribute(lambda term: term.start_date.replace(month=12, day=31))


class ClosureFactory(DjangoModelFactory):
    class Meta:
        model = Closure

    reason = "Holiday"
    start_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(weeks=6))
    end_date = factory.SelfAttribute("start_date")


class TuitionPlanFactory(DjangoModelFactory):
    class Meta:
        model = TuitionPlan

    name = factory.Sequence(lambda n: f"Plan {n}")
    lesson_minutes = 30
    price_cents = 14000


class EnrollmentFactory(DjangoModelFactory):
    class Meta:
        model = Enrollment

    student = factory.SubFactory(StudentFactory)
    instrument = factory.SelfAttribute("student.instrument")
    tuition_plan = factory.SubFactory(TuitionPlanFactory)
    idempotency_key = factory.Faker("uuid4", cast_to=None)


class ChildConsentFactory(DjangoModelFactory):
    """A guardian's consent to the current privacy notice for their child, as enrollment records it."""

    class Meta:
        model = ChildConsent

    student = factory.SubFactory(StudentFactory)
    purpose = ChildConsent.Purpose.LESSONS
    notice = factory.LazyFunction(privacy_notice_current)
    text_shown = factory.LazyAttribute(lambda consent: consent_text(consent.purpose, consent.notice))
    given_by = factory.LazyAttribute(lambda consent: consent.student.family.parents.first())
    given_at = factory.Faker("past_datetime", tzinfo=UTC)


class PaymentFactory(DjangoModelFactory):
    class Meta:
        model = Payment

    family = factory.SubFactory(FamilyFactory)
    amount_cents = 14000


class LedgerEntryFactory(DjangoModelFactory):
    class Meta:
        model = LedgerEntry

    family = factory.SubFactory(FamilyFactory)
    kind = LedgerEntry.Kind.CHARGE
    amount_cents = 14000
    description = "Tuition"


class LessonFeeFactory(DjangoModelFactory):
    """A pending no-show fee on a lesson (billing makes them from a lesson's outcome: `lesson_fee_follow_outcome`)."""

    class Meta:
        model = LessonFee

    family = factory.SelfAttribute("lesson.student.family")
    kind = LessonFee.Kind.NO_SHOW
    amount_cents = 5000
    posts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=24))


class ChildInputFactory(factory.Factory):
    """A child as the enrollment form sends them: ten years old today, for the piano the school teaches."""

    class Meta:
        model = ChildInput

    first_name = "Lucia"
    last_name = "Lopez"
    date_of_birth = factory.LazyFunction(lambda: years_ago(10))
    instrument_id = factory.LazyFunction(lambda: InstrumentFactory().pk)  # the school's piano (get or create)


class EnrollmentInputFactory(factory.Factory):
    """What a new family types into the enrollment form, valid in the school of `school_ready`: one child old
    enough, consent given, a card made on the local Stripe server, and weekly times its piano teacher serves.

    Change a child with `children__0__first_name=…`; `siblings=True` enrolls Lucia and her brother Mateo;
    `card=…` is the number typed into Stripe.js.
    """

    class Meta:
        model = EnrollmentInput

    class Params:
        card = GOOD_CARD
        siblings = factory.Trait(
            children=factory.List(
                [
                    factory.SubFactory(ChildInputFactory),
                    factory.SubFactory(
                        ChildInputFactory, first_name="Mateo", date_of_birth=factory.LazyFunction(lambda: years_ago(12))
                    ),
                ]
            )
        )

    parent_first_name = "Maya"
    parent_last_name = "Lopez"
    email = "new.parent@example.com"
    phone = "416-555-0188"
    children = factory.List([factory.SubFactory(ChildInputFactory)])
    windows = factory.LazyFunction(lambda: [Window(0, time(16), time(17)), Window(2, time(16), time(18))])
    tuition_plan_id = factory.LazyFunction(lambda: TuitionPlan.objects.exclude(stripe_price_id="").earliest("pk").pk)
    consent = True
    payment_method_id = factory.LazyAttribute(lambda form: LocalStripe(settings.STRIPE_API_HOST).card(form.card))
