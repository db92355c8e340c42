"""The teacher's pay page, under `/teach/pay/` (included from cedarheights/urls.py)."""

from django.urls import path

from billing.payroll import views

urlpatterns = [path("", views.teach_pay, name="teach-pay")]
