from django.urls import path

from billing import views

urlpatterns = [
    path("", views.billing_page, name="billing"),
    path("card/", views.card_update, name="billing-card"),
    path("receipts/<str:number>/", views.receipt_page, name="billing-receipt"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe-webhook"),
]
