from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.webhooks import stripe_event_receive


@csrf_exempt  # Stripe signs its deliveries; the signature is checked before anything is stored
@require_POST
def stripe_webhook(request):
    try:
        stripe_event_receive(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
    except ValueError as error:
        return JsonResponse({"code": "bad_signature", "message": str(error)}, status=400)
    return HttpResponse(status=200)
