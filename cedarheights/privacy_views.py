"""The public privacy notice: the version families consent to now, and every earlier one (PIPEDA principle 8)."""

from django.http import Http404
from django.shortcuts import render

from cedarheights.selectors import privacy_notice_current, privacy_notices_published, school_settings_get


def privacy_notice(request, version: int | None = None):
    """`/privacy/` (the newest version) or `/privacy/v<n>/` (an earlier one), for anyone, signed in or not."""
    published = privacy_notices_published()
    notice = published.filter(version=version).first() if version is not None else privacy_notice_current()
    if notice is None:
        raise Http404("No such version of the privacy notice.")
    context = {
        "notice": notice,
        "current": privacy_notice_current(),
        "versions": published.only("version", "title", "published_at"),
        "school": school_settings_get(),
    }
    return render(request, "privacy/notice.html", context)
