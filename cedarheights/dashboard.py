"""The owner's dashboard on the admin index: each app answers for its own figures, and the wiring gathers them."""

from billing.selectors import payment_trouble_figures
from enrollment.selectors import enrollment_queue_figures
from scheduling.selectors import school_week_figures

DASHBOARD_FIGURES = (school_week_figures, enrollment_queue_figures, payment_trouble_figures)


def dashboard_figures() -> dict[str, int]:
    return {name: value for figures in DASHBOARD_FIGURES for name, value in figures().items()}
