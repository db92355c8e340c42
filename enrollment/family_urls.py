"""The family's portal (`/family/`): home, a lesson, credits and make-ups. Built out by the portal work."""

from django.urls import path

from enrollment import family_views as views

urlpatterns = [
    path("", views.family_home, name="family-home"),
    path("credits/", views.family_credits, name="family-credits"),
]
