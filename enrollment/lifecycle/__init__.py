"""An enrollment's life after it starts (issue 17): a vacation pause (`pauses`), a withdrawal with notice
(`withdrawals`) and a change of the weekly lesson from a date (`changes`). Each is one service that writes the
enrollment's rows, releases or moves its lessons through the scheduling services, emails the family and the teacher
once, and sends a signal (enrollment/signals.py) that billing answers at Stripe on commit."""
