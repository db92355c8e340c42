"""Teacher payroll from attendance (issue 17 §2): pay rates, pay periods and their frozen lines.

- `models.py`: `PayRate`, `PayPeriod`, `PayLine` (imported by billing/models.py, so their migrations are billing's).
- `rules.py`: what a lesson earns (the rate in force on its day, hourly prorated, the outcomes the school pays).
- `selectors.py`: a period's lines (frozen when closed, computed when open) and its summary per teacher.
- `services.py`: periods made as needed, a period closed (its lines frozen), rates written.
- `report.py`: a period's report as CSV.
"""
