"""The family's portal (`/family/`): home, lessons, credits, make-up booking, the calendar link and "My data"
(enrollment/family_views.py)."""

from django.urls import path

from enrollment import family_data_views as data_views
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
    path("my-data/", data_views.family_my_data, name="family-my-data"),
    path("my-data/ask/", data_views.family_data_ask, name="family-data-ask"),
    path("my-data/details/", data_views.family_details_correct, name="family-details-correct"),
    path("my-data/children/", data_views.family_children_correct, name="family-children-correct"),
    path("my-data/corrections/", data_views.family_correction_request, name="family-correction-request"),
    path("my-data/export/<int:export_id>/", data_views.family_data_export, name="family-data-export"),
    path("my-data/export/link/<str:token>/", data_views.family_data_export_link, name="family-data-export-link"),
]
