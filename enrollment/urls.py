from django.urls import path

from enrollment import views

urlpatterns = [
    path("", views.enroll, name="enroll"),
    path("done/<uuid:key>/", views.enroll_done, name="enroll-done"),
    path("done/<uuid:key>/lesson/<int:lesson_id>.ics", views.enroll_lesson_ics, name="enroll-lesson-ics"),
]
