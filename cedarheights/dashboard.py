"""The owner's dashboard on the admin index: each app answers for its own figures, and the wiring gathers them."""

from billing.selectors import lesson_fee_figures, payment_trouble_figures
from enrollment.selectors import enrollment_queue_figures, makeup_credit_figures
from scheduling.selectors import lesson_week_owner_figures, school_week_figures

DASHBOARD_FIGURES = (
    school_week_figures,
    lesson_week_owner_figures,
    enrollment_queue_figures,
    makeup_credit_figures,
    payment_trouble_figures,
    lesson_fee_figures,
)


def dashboard_figures() -> dict[str, int]:
    return {name: value for figures in DASHBOARD_FIGURES for name, value in figures().items()}
