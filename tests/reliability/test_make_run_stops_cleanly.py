"""Ctrl-C on `make run` stops every process once, quietly, with exit status 0 (issue 11, item 7).

Made to fail first: with the Makefile's old `trap 'kill 0'` and the terminal's own SIGINT, every process of
the group (django-q2's workers among them) got the signal twice: `AttributeError: 'NoneType' object has no
attribute 'set'` from django-q2's handler and make's "Segmentation fault".
"""

import re
import uuid


def test_ctrl_c_stops_every_process_once_and_quietly(sqlite_site, launch):
    launcher = launch(sqlite_site)
    launcher.wait_for_output("Ctrl-C stops everything.")
    launcher.wait_for("/health/ready")
    assert launcher.status_of(f"/not-a-page-{uuid.uuid4().hex}") == 404

    status = launcher.interrupt()

    output = launcher.output()
    assert status == 0, output
    for noise in ("Traceback", "Segmentation", "AttributeError", "Error"):
        assert noise not in output
    assert f"Database: SQLite, file {sqlite_site.path}" in output
    assert "Stopped." in output
    assert sqlite_site.processes() == []
    # Each request is one JSON line: no runserver access line, no "Not Found" from Django beside it.
    assert len(re.findall(r"not-a-page", output)) == 1, output
