"""What enrollment tells the layers above it. Enrollment imports none of them: billing connects its receivers in
`BillingConfig.ready()` (billing/receivers.py). README, "Architecture", lists every such event.

- `enrollment_card_offered(payment_method_id)`: sent before a submission writes anything, outside any
  transaction. A receiver refuses the card by raising a `DomainError` (`CardRefused`, `ServiceUnavailable`), and
  then nothing is written.
- `enrollment_booked(enrollment, payment_method_id, starts_at)`: sent inside the submission's transaction for each
  child who got a place and whose family gave a card. A receiver's rows commit or roll back with the enrollment,
  and its background work must leave on commit (`task_enqueue_with_commit`).
"""

from django.dispatch import Signal

enrollment_card_offered = Signal()
enrollment_booked = Signal()

# Make-up credits (enrollment/credits.py), both sent inside the transaction that wrote the credit's ledger line:
# - `makeup_credit_issued(credit)`: billing holds the credit while the family's tuition is unpaid.
# - `makeup_credit_expired(credit)`: a teacher's or a closure's credit expired unused; billing puts its value on the
#   family's account as money.
makeup_credit_issued = Signal()
makeup_credit_expired = Signal()

# An enrollment's life after it starts (issue 17; enrollment/pauses.py, withdrawals.py, changes.py), each sent inside
# the transaction that wrote it; a receiver's Stripe calls leave on commit:
# - `enrollment_paused(enrollment, pause)`: a vacation pause; billing pauses collection until `pause.resumes_on`.
# - `enrollment_pause_ended(enrollment, pause)`: the school ended it before its resume date; billing resumes now.
# - `enrollment_withdrawn(enrollment, unused_lessons)`: notice given, `enrollment.ends_on` set; billing stops the
#   subscription after the last lesson's month and settles what was paid beyond it (`unused_lessons`: "credit" or
#   "refund").
# - `enrollment_changed(enrollment, effective_on, before, after)`: the weekly lesson changed from `effective_on`;
#   `before`/`after` hold weekday, start_time, teacher_id, lesson_minutes, tuition_plan_id.
# - `enrollment_change_quoted(enrollment, effective_on, before, after)`: sent by a preview, outside any write; a
#   receiver returns the money lines the change would make (a list of objects with `label` or `description`,
#   `amount_cents` and optionally `currency`; shown as "label: $amount").
enrollment_paused = Signal()
enrollment_pause_ended = Signal()
enrollment_withdrawn = Signal()
enrollment_changed = Signal()
enrollment_change_quoted = Signal()
