"""The breach register as a spreadsheet: one row per breach, the columns the Commissioner may ask to see."""

import csv
import io
from collections.abc import Iterable

from accounts.models import Breach

COLUMNS = (
    ("Summary", lambda b: b.summary),
    ("Occurred", lambda b: b.occurred_on or ""),
    ("Discovered", lambda b: b.discovered_on),
    ("Contained", lambda b: b.contained_on or ""),
    ("Information", lambda b: b.information_involved),
    ("Whose", lambda b: b.people_involved),
    ("People affected (estimate)", lambda b: b.people_affected_estimate),
    ("Sensitivity", lambda b: b.get_sensitivity_display()),
    ("Probability of misuse", lambda b: b.get_probability_display()),
    ("Real risk of significant harm", lambda b: "yes" if b.real_risk_of_significant_harm else "no"),
    ("Actions taken", lambda b: b.actions_taken),
    ("Commissioner notified", lambda b: b.commissioner_notified_on or ""),
    ("People notified", lambda b: b.people_notified_on or ""),
)


def breach_register_csv(*, breaches: Iterable[Breach]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for title, _ in COLUMNS])
    for breach in breaches:
        writer.writerow([value(breach) for _, value in COLUMNS])
    return out.getvalue()
