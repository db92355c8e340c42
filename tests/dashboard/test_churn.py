"""A month's churn as the README defines it: the enrollments active on its first day that end in it, ÷ those active
on its first day. Made to fail first: an enrollment that started and ended within the month, and a course that
simply completed, both counted as churn (a month could pass 100 %)."""

from datetime import timedelta

import pytest

from cedarheights.periods import months_back
from cedarheights.selectors import school_today
from enrollment.metrics import students_by_month
from enrollment.models import Enrollment
from tests.dashboard.test_metrics import _enrollment, noon

pytestmark = pytest.mark.django_db

S = Enrollment.Status


def test_churn_counts_only_enrollments_active_on_the_first_day_that_left(school):
    zone = school.zone
    M = months_back(today=school_today(), count=12, zone=zone)
    _enrollment(  # withdrew with notice, the last lesson mid-M[5]: churn of M[5]
        status=S.CANCELLED, activated_at=noon(M[0].first + timedelta(days=4), zone),
        ends_on=M[5].first + timedelta(days=14),
    )  # fmt: skip
    _enrollment(  # began and ended within M[5]: never active on a first day, not churn
        status=S.CANCELLED, activated_at=noon(M[5].first + timedelta(days=1), zone),
        ends_on=M[5].first + timedelta(days=19),
    )  # fmt: skip
    _enrollment(  # a course that ran its length, completed in M[7]: not a family leaving
        status=S.COMPLETED, activated_at=noon(M[1].first, zone), changed_at=noon(M[7].first + timedelta(days=3), zone)
    )
    gave_notice = _enrollment(  # completed after a withdrawal was given, in M[8]: churn
        status=S.COMPLETED, activated_at=noon(M[1].first, zone), changed_at=noon(M[8].first + timedelta(days=3), zone)
    )
    Enrollment.objects.filter(pk=gave_notice.pk).update(withdrawal_given_on=M[7].first)

    figures = students_by_month(months=M)

    assert [m.active_at_start for m in figures] == [0, 1, 3, 3, 3, 3, 2, 2, 1, 0, 0, 0]
    assert [m.withdrawals for m in figures] == [0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0]
    assert [m.churn_percent for m in figures][5:9] == [33.3, 0.0, 0.0, 100.0]
    assert all(m.withdrawals <= m.active_at_start for m in figures)
