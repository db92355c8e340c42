"""The calendar link page, the same in every portal: the family's (`/family/calendar/`), the teacher's
(`/teach/calendar/`) and the owner's whole-school one in the admin. Each portal checks who may open it and names its
kind of link; the rules are scheduling.calendar_feeds'.

The link's secret is shown once, on the page the making POST redirects to: it rides in the session for that one
display and is popped there, so reloading the page never shows it again (only its hash is stored)."""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from cedarheights.errors import DomainError
from scheduling.calendar_feeds import calendar_feed_issue, calendar_feed_revoke, calendar_feeds_of, feed_url
from scheduling.models import CalendarFeed

# What each kind of link puts in a calendar, in the page's words.
SHOWN_LESSONS = {
    CalendarFeed.Scope.FAMILY: "your family's lessons",
    CalendarFeed.Scope.TEACHER: "your lessons",
    CalendarFeed.Scope.SCHOOL: "every lesson of the school",
}
# The kinds whose holders are also emailed a change made close to a lesson (the reminders): not the owner.
CHANGES_EMAILED = {CalendarFeed.Scope.FAMILY, CalendarFeed.Scope.TEACHER}
DONE = {
    "create": "Your calendar link is ready.",
    "rotate": "Here is your new calendar link. The old one has stopped working: add this one to your calendar.",
    "off": "Your calendar link is turned off: calendars that used it get no more updates.",
}


class CalendarLinkForm(forms.Form):
    action = forms.ChoiceField(choices=[(action, action) for action in DONE])


@dataclass(frozen=True)
class CalendarLink:
    scope: str
    feed: CalendarFeed | None  # the live link, if any
    url: str = ""  # set on the one display right after the link was made
    webcal_url: str = ""

    @property
    def shown_lessons(self) -> str:
        return SHOWN_LESSONS[self.scope]

    @property
    def changes_emailed(self) -> bool:
        return self.scope in CHANGES_EMAILED


def _shown_once_key(scope: str) -> str:
    return f"calendar_link_shown_once:{scope}"


def calendar_link_page(request, *, scope: str, template: str, context: dict | None = None):
    """GET: the page (the new link on its one display); POST `action` create/rotate/off: done, then back here."""
    if request.method == "POST":
        return _calendar_link_change(request, scope=scope)
    feed = calendar_feeds_of(request.user).filter(scope=scope).first()
    shown_once = request.session.pop(_shown_once_key(scope), None)
    link = CalendarLink(scope=scope, feed=feed)
    # Only the link still live: one replaced or turned off meanwhile (another tab) is not shown.
    if shown_once and feed is not None and shown_once["feed"] == feed.pk:
        token = shown_once["token"]
        link = CalendarLink(scope=scope, feed=feed, url=feed_url(token), webcal_url=feed_url(token, webcal=True))
    return render(request, template, {**(context or {}), "calendar": link})


def _calendar_link_change(request, *, scope: str):
    form = CalendarLinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to create, replace or turn off your calendar link.")
        return redirect(request.path)
    action = form.cleaned_data["action"]
    try:
        if action == "off":
            feed = calendar_feeds_of(request.user).filter(scope=scope).first()
            if feed is None:
                messages.info(request, "Your calendar link is already off.")
                return redirect(request.path)
            calendar_feed_revoke(feed=feed, actor=request.user)
        else:
            feed, token = calendar_feed_issue(holder=request.user, scope=scope, actor=request.user)
            request.session[_shown_once_key(scope)] = {"feed": feed.pk, "token": token}
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, DONE[action])
    return redirect(request.path)
