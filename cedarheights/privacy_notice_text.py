"""The school's first privacy notice (version 1), published by migration 0018 on a new database and by
`privacy_notice_current` on one that has none (a flushed test database): what is collected, why, who sees it, how
long it is kept, the choices, access and correction, complaints. Later versions are the owner's, in the admin."""

FIRST_NOTICE_TITLE = "How Cedar Heights handles your family's information"

FIRST_NOTICE_BODY = """\
Cedar Heights Music Academy teaches children and adults. To do that we keep some personal information about \
your family. This notice says what we keep, why, who sees it, how long we keep it, and the choices you have. \
We follow Canada's Personal Information Protection and Electronic Documents Act (PIPEDA).

What we collect. About parents: names, email address, phone number, home address, an emergency contact, and \
your payment history (amounts, dates, receipts). Card numbers are held by our payment processor, Stripe; we never \
see or store them. About each child: name, date of birth, instrument and level, weekly lesson times, attendance, \
make-up credits and the lesson notes teachers share with you.

Why we collect it. To enrol your children, schedule and teach their lessons, send lesson reminders, bill tuition, \
issue tax receipts, and keep our accounts as the law requires. We do not sell personal information, and we use it \
for nothing else without asking you first.

Who sees it. The school's owner and office staff see your family's records. A teacher sees only the students they \
teach: names, ages, lessons and notes. Stripe processes payments; our email provider delivers our emails. Each of \
them may use the information only to do that work for us.

How long we keep it. Financial records (ledger, payments, receipts) are kept for the years tax law requires; \
lesson records and notes for a period after your family's last lesson; families who never started regular lessons \
for a shorter period. After that, names and contact details are erased or anonymised. The exact periods are \
listed below.

Your choices. When you enrol you consent, for each child, to this notice. Separately, and only if you choose: \
photos and recordings of your child's lessons (for example for a recital video), news and offers by email, and \
each kind of reminder email. You can give or withdraw each choice at any time from "Privacy and consent" in your \
family portal; a withdrawal takes effect at once.

Seeing and correcting your information. You may ask for a copy of everything we hold about your family, free of \
charge, from the portal or by writing to our privacy officer. We answer within 30 days. You may correct your \
contact details and your children's names yourself; for anything else, ask us, and if we disagree we note your \
view on the record.

Questions and complaints. Write to our privacy officer (named below). If you are not satisfied with our answer, \
you may complain to the Office of the Privacy Commissioner of Canada (priv.gc.ca, 1-800-282-1376)."""
