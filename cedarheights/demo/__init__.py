"""A believable demo school (`manage.py seed_demo`, which `make run` runs), made through the same services as the
school's own work, and never calling Stripe; running it again changes nothing.

`school` is who and what the school is (data only), `build` makes it, `billing` bills its month, and `fakes` holds
the few states no service can produce offline (Stripe's side, a worker killed mid-work), each saying why.
"""

from cedarheights.demo.build import demo_school_seed
from cedarheights.demo.school import ADMIN_EMAIL, ADMIN_PASSWORD, DEMO_PASSWORD

__all__ = ["ADMIN_EMAIL", "ADMIN_PASSWORD", "DEMO_PASSWORD", "demo_school_seed"]
