"""Billing's services, one job per module: `ledger` (what a family owes and paid, receipts, credits), `charges`
(a lesson charged, money refunded), `dunning` (a declined payment: retries, giving up, recovery, settling),
`subscriptions` (billing started, Stripe's state applied, an invoice routed), `customers` (the Stripe customer and
the card on file) and `catalog` (tuition plans given Stripe prices).

django-q2 stores task paths under `billing.tasks`, never here, so these modules are imported where they are."""
