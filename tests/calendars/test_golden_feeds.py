"""The three feeds of a fixed school, compared byte for byte with the files in tests/calendars/golden/ (issue 16,
"Shown"): a family's (two children), a teacher's (two families) and the whole school's, over a window that spans
both changes of America/Toronto's clocks, with a cancelled lesson (kept) and a moved one (SEQUENCE 1), and lessons
outside the window or cancelled long ago (absent). See tests/calendars/fixed_school.py.

A difference is either a regression or an intended change of the feeds: read the diff, and if it is intended,
regenerate the files and review them before committing:

    UPDATE_GOLDEN=1 DATABASE_URL=… .venv/bin/pytest tests/calendars/test_golden_feeds.py -p no:cacheprovider -q

(then raise FEED_FORMAT in scheduling/calendar_feeds.py, so no client keeps a validator of the old format). The
VTIMEZONE comes from the zone database: a change of Ontario's rules for 2030–2031 would show here too.
"""

import os
from pathlib import Path

import pytest

from scheduling.calendar_feeds import feed_text
from scheduling.models import CalendarFeed
from tests.calendars.fixed_school import TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("scope", list(CalendarFeed.Scope))
def test_each_feed_is_its_golden_file_byte_for_byte(fixed_school, scope):
    text = feed_text(feed=fixed_school.feeds[scope], today=TODAY).text.encode()
    golden = GOLDEN / f"{scope}.ics"

    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(text)

    assert text == golden.read_bytes()
