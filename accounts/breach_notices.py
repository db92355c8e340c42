"""The first drafts of a breach's two notices, from the templates in templates/accounts/breach_notices/: the report
to the Privacy Commissioner and the notice to the affected people, with what the Regulations ask each to contain.
The owner edits a draft before recording it as sent."""

from django.template.loader import render_to_string

from accounts.models import Breach, User
from cedarheights.selectors import school_settings_get


def privacy_officer_contact() -> tuple[str, str, str]:
    """(name, title, email) of the person who answers for the school: the owner and the school's contact email when
    the settings leave them blank."""
    school = school_settings_get()
    name = school.privacy_officer_name
    if not name:
        owner = User.objects.filter(role=User.Role.ADMIN, is_active=True).order_by("pk").first()
        name = owner.get_full_name() if owner else school.name
    return name, school.privacy_officer_title, school.privacy_officer_email or school.contact_email


def _context(breach: Breach) -> dict:
    name, title, email = privacy_officer_contact()
    return {
        "breach": breach,
        "school": school_settings_get(),
        "officer_name": name,
        "officer_title": title,
        "officer_email": email,
    }


def breach_commissioner_notice_draft(*, breach: Breach) -> str:
    return render_to_string("accounts/breach_notices/commissioner.txt", _context(breach)).strip()


def breach_people_notice_draft(*, breach: Breach) -> str:
    return render_to_string("accounts/breach_notices/people.txt", _context(breach)).strip()
