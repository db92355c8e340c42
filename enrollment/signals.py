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
