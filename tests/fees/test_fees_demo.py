"""The demo's fees on a fresh seed: registration fees, a late fee waiting and one waived, open make-up credits."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Family
from billing.fee_selectors import makeup_credits_open
from billing.models import FamilyFee, FeeInvoiceItem
from enrollment.models import Enrollment

pytestmark = pytest.mark.django_db


def test_the_demo_has_registration_fees_a_late_fee_waiting_one_waived_and_open_make_up_credits():
    call_command("seed_demo", stdout=StringIO())

    enrolled = Family.objects.filter(students__enrollments__status=Enrollment.Status.ACTIVE).distinct()
    registered = FamilyFee.objects.filter(kind="registration", status="charged")
    assert set(registered.values_list("family_id", flat=True)) == set(enrolled.values_list("pk", flat=True))
    late = dict(FamilyFee.objects.filter(kind="late").values_list("family__name", "status"))
    assert late == {"Okonkwo family": "charged", "Tremblay family": "waived"}
    assert any(makeup_credits_open(family_id=family.pk) for family in enrolled)
    # Stripe is never called: every line is at Stripe already, under a plainly fake id.
    assert not FeeInvoiceItem.objects.exclude(stripe_invoice_item_id__startswith="ii_demo_").exists()
