from django.urls import path

from enrollment import views

urlpatterns = [
    path("", views.enroll, name="enroll"),
    path("check-your-email/", views.enroll_check_email, name="enroll-check-email"),
    path("done/<str:token>/", views.enroll_done, name="enroll-done"),
    path("done/<str:token>/lesson/<int:lesson_id>.ics", views.enroll_lesson_ics, name="enroll-lesson-ics"),
]
