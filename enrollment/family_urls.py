"""The family's portal (`/family/`): home, lessons, credits, make-up booking and the calendar link
(enrollment/family_views.py)."""

from django.urls import path

from enrollment import family_views as views

urlpatterns = [
    path("", views.family_home, name="family-home"),
    path("lessons/", views.family_lesson_list, name="family-lessons"),
    path("lessons/<int:lesson_id>/", views.family_lesson, name="family-lesson"),
    path("lessons/<int:lesson_id>/cancel/", views.family_lesson_cancel, name="family-lesson-cancel"),
    path("lessons/<int:lesson_id>/reschedule/", views.family_lesson_reschedule, name="family-lesson-reschedule"),
    path("credits/", views.family_credits, name="family-credits"),
    path("credits/<int:credit_id>/book/", views.family_credit_book, name="family-credit-book"),
    path("calendar/", views.family_calendar, name="family-calendar"),
    path("privacy/", views.family_privacy, name="family-privacy"),
    path("withdraw/<int:enrollment_id>/", views.family_withdraw, name="family-withdraw"),
]
