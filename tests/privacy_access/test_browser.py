"""A parent in a real browser (Playwright driving Debian's Chromium, headless): asks for the family's data on
"My data", downloads the zip once, and finds the same link gone the second time."""

import re
import shutil

import pytest

from accounts.models import DataExport
from tests.privacy_access.conftest import exported

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
PASSWORD = "a-long-test-password-1"  # tests.factories.UserFactory's


def test_a_parent_asks_for_the_familys_data_and_downloads_it_once(live_server, week, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email").fill(week.parent.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/family/$"))

    page.get_by_role("link", name="My data").click()
    page.get_by_role("button", name="Ask for my family's data").click()
    page.wait_for_url(re.compile(r".*/family/my-data/$"))
    page.reload()  # the export is built by the worker once the request commits
    button = page.get_by_role("button", name=re.compile("Download your data"))
    with page.expect_download() as download:
        button.click()
    with open(download.value.path(), "rb") as zipped:
        assert exported(zipped.read())["children"][0]["id"] == week.student.pk

    assert DataExport.objects.get().downloaded_at is not None
    page.reload()
    assert page.get_by_role("button", name=re.compile("Download your data")).count() == 0
    assert "was downloaded on" in page.content()
    assert page.get_by_role("button", name="Ask for a new copy").is_visible()
