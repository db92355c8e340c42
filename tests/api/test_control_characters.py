"""Names and single-line text refuse line breaks and control characters, through one validator, everywhere.

Failed before the fix: a carriage return in a child's name was stored, then broke the .ics file (a bare CR) and
stopped the teacher's welcome email ("Header values can't contain newlines", the name being in its subject).
"""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from icalendar import Calendar

from accounts.models import Family, User
from billing.admin import AmountForm
from cedarheights.emails import email_queue
from cedarheights.models import SchoolSettings
from cedarheights.validators import MESSAGE, no_control_characters
from enrollment.calendar import lesson_ics
from enrollment.forms import ChildForm, ParentForm
from enrollment.models import TuitionPlan
from scheduling.models import AcademicYear, Closure, Instrument, Lesson, Room, Student, Term
from tests.factories import EnrollmentFactory

REFUSED = [
    "Lu\rcia",
    "Lu\ncia",
    "Lu\r\nBcc: x@example.com",
    "Lu\tcia",
    "Lu\x1bcia",
    "Lu\x7fcia",
    "Lu\x85cia",
    "Lu\u2028",
]
ACCEPTED = ["Lucia", "Zoë O'Brien-Smith", "José María", "李小龙", "Nguyễn (Ann) & Co."]
SINGLE_LINE_FIELDS = [
    (User, "first_name"),
    (User, "last_name"),
    (User, "phone"),
    (Family, "name"),
    (Family, "street"),
    (Family, "city"),
    (Family, "province"),
    (Family, "postal_code"),
    (Family, "emergency_contact_name"),
    (Family, "emergency_contact_phone"),
    (Student, "first_name"),
    (Student, "last_name"),
    (Instrument, "name"),
    (Room, "name"),
    (Room, "notes"),
    (AcademicYear, "name"),
    (Term, "name"),
    (Closure, "reason"),
    (Lesson, "cancellation_reason"),
    (TuitionPlan, "name"),
    (TuitionPlan, "description"),
    (SchoolSettings, "name"),
]


@pytest.mark.parametrize("value", REFUSED)
def test_the_validator_refuses_line_breaks_and_control_characters(value):
    with pytest.raises(ValidationError, match="one line of plain text"):
        no_control_characters(value)


@pytest.mark.parametrize("value", ACCEPTED)
def test_the_validator_accepts_names_as_people_write_them(value):
    no_control_characters(value)


@pytest.mark.parametrize(("model", "name"), SINGLE_LINE_FIELDS, ids=lambda v: getattr(v, "__name__", v))
def test_every_name_and_single_line_field_carries_the_validator(model, name):
    assert no_control_characters in model._meta.get_field(name).validators


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "method", "path", "body", "field"),
    [
        ("admin", "post", "/api/v1/families/", {"name": "Nguyen\r\nfamily"}, "name"),
        ("admin", "patch", "/api/v1/students/{student}/", {"first_name": "Lu\rcia"}, "first_name"),
        ("admin", "post", "/api/v1/instruments/", {"name": "Pi\nano"}, "name"),
        ("parent_a", "patch", "/api/v1/families/{family}/", {"city": "Tor\x0bonto"}, "city"),
        ("parent_a", "post", "/api/v1/lessons/{lesson}/cancel/", {"reason": "sick\r\nBcc: x"}, "reason"),
        (
            "anonymous",
            "post",
            "/api/v1/enrollments/",
            {"children": [{"first_name": "Lu\rcia"}]},
            "children-0-first_name",
        ),
        ("anonymous", "post", "/api/v1/enrollments/", {"parent_last_name": "Do\ne"}, "parent_last_name"),
    ],
)
def test_the_api_refuses_control_characters_naming_the_field(world, as_role, role, method, path, body, field):
    url = path.format(student=world.student_a.pk, family=world.parent_a.family_id, lesson=world.lesson_a.pk)
    response = getattr(as_role(role), method)(url, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["fields"][field] == [MESSAGE]
    world.student_a.refresh_from_db()
    assert "\r" not in world.student_a.first_name


@pytest.mark.django_db
def test_the_admin_refuses_them_and_keeps_what_was_typed(world):
    client = Client()
    client.force_login(world.admin)
    response = client.post("/admin/scheduling/instrument/add/", {"name": "Vi\rola", "active": "on"})
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert not Instrument.objects.filter(name__startswith="Vi").exists()


@pytest.mark.parametrize(
    ("form", "data", "field"),
    [
        (
            ParentForm,
            {"parent_first_name": "An\ra", "parent_last_name": "Diaz", "email": "a@example.com"},
            "parent_first_name",
        ),
        (ChildForm, {"first_name": "Lucia", "last_name": "Di\naz"}, "last_name"),
        (AmountForm, {"amount": "5.00", "reason": "goodwill\r\ncredit"}, "reason"),
    ],
)
def test_the_forms_that_are_not_a_model_s_refuse_them_too(db, form, data, field):
    assert form(data=data).errors[field] == [MESSAGE]


@pytest.mark.django_db
def test_a_stored_name_with_a_line_break_cannot_break_the_calendar_or_the_email(
    world, django_capture_on_commit_callbacks
):
    """Rows from before the validator may hold one: the .ics text is escaped, the subject is made one line."""
    Student.objects.filter(pk=world.student_a.pk).update(first_name="Lu\r\nBcc: x@example.com")
    lesson = Lesson.objects.select_related("student", "teacher__user").get(pk=world.lesson_a.pk)
    ics = lesson_ics(lesson)
    assert ics.endswith("\r\n")
    assert all("\r" not in line and "\n" not in line for line in ics.split("\r\n"))
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert "Lu" in str(event["SUMMARY"]) and "Bcc: x@example.com" in str(event["SUMMARY"])

    enrollment = EnrollmentFactory(student=lesson.student, demo_lesson=lesson)
    with django_capture_on_commit_callbacks(execute=True):
        email_queue(to="teacher@example.com", template="welcome_teacher", context={"enrollment": enrollment})
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.startswith("New student: Lu Bcc: x@example.com")
    assert mail.outbox[0].to == ["teacher@example.com"] and mail.outbox[0].bcc == []
