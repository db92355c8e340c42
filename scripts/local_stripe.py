"""A local Stripe server for development, the demo and tests: localstripe plus what it lacks.

Development tooling only: nothing in the app imports this. localstripe (pinned, GPL-3.0, run as its own
process) speaks the 2017 API; this launcher adds what our gateway uses of today's API:
- `GET /v1/account` (every dj-stripe sync asks it first);
- prices (`POST/GET /v1/prices`), stored as localstripe plans with the same id;
- subscriptions with `items[][price]` and `default_payment_method` (set on the customer instead);
- payment intents with a `description`;
- in its Stripe.js stand-in, a card element as Stripe's (scripts/local_stripe.js) and `createPaymentMethod`;
- subscriptions in a trial are `trialing` until it ends (their current period ends with it), and
  `trial_end=now` charges the first invoice at once, as Stripe does;
- `DELETE /_config/webhooks/{id}` forgets a registered webhook (tests that record deliveries);
- `expand[]` values localstripe does not know (dj-stripe asks for `discounts`) are dropped;
- product features (`GET /v1/products/{id}/features`, an empty list);
- idempotency keys: a POST repeated with the same `Idempotency-Key` gets the first answer again.
It binds 127.0.0.1 only and keeps its state in memory, or in `--state FILE` (never the shared /tmp
pickle). `--webhook URL` registers the app's endpoint, signed with `--webhook-secret`.

    python scripts/local_stripe.py --port 8420 --state run/localstripe.pickle \
        --webhook http://127.0.0.1:8000/billing/stripe/webhook/ --webhook-secret whsec_cedarheightslocal
"""

import argparse
import pickle
import socket
import time
from pathlib import Path

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError
from localstripe.webhooks import _webhooks, register_webhook

ACCOUNT = {
    "id": "acct_cedarheightslocal",
    "object": "account",
    "country": "CA",
    "default_currency": "cad",
    "email": "office@cedarheights.test",
    "charges_enabled": True,
    "payouts_enabled": True,
    "settings": {"dashboard": {"display_name": "Cedar Heights (local)"}},
    "type": "standard",
}


def price_of(plan) -> dict:
    """A localstripe plan, shown as the price object of today's API."""
    exported = plan._export()
    return {
        "id": exported["id"],
        "object": "price",
        "active": exported["active"],
        "currency": exported["currency"],
        "unit_amount": exported["amount"],
        "product": exported["product"],
        "type": "recurring",
        "recurring": {"interval": exported["interval"], "interval_count": exported["interval_count"]},
        "metadata": exported.get("metadata") or {},
        "nickname": exported.get("nickname"),
        "livemode": False,
        "created": exported.get("created"),
    }


async def create_price(request) -> web.Response:
    data = await server.get_post_data(request) or {}
    recurring = data.get("recurring") or {}
    if not recurring.get("interval"):
        raise UserError(400, "Only recurring prices are supported by the local server")
    plan = resources.Plan._api_create(
        id=data.get("lookup_key") or None,
        amount=data.get("unit_amount"),
        currency=data.get("currency"),
        interval=recurring["interval"],
        interval_count=recurring.get("interval_count", 1),
        product=data.get("product"),
        nickname=data.get("nickname"),
        metadata=data.get("metadata"),
    )
    return server.json_response(price_of(plan))


async def create_subscription(request) -> web.Response:
    data = await server.get_post_data(request) or {}
    expand = data.pop("expand", None)
    for item in data.get("items") or []:
        if "price" in item:
            item["plan"] = item.pop("price")
    if payment_method := data.pop("default_payment_method", None):
        resources.Customer._api_update(data["customer"], invoice_settings={"default_payment_method": payment_method})
    for unsupported in ("payment_settings", "collection_method", "off_session"):
        data.pop(unsupported, None)
    subscription = resources.Subscription._api_create(**data)
    return server.json_response(subscription._export(expand=expand))


async def end_trial_now(request, subscription_id: str) -> web.Response:
    """`trial_end=now` on a trialing subscription: as Stripe, its first invoice is made and charged at once
    (localstripe only moves the date). Paid: active; declined: past_due with the invoice open."""
    data = await server.get_post_data(request) or {}
    expand = data.pop("expand", None)
    subscription = resources.Subscription._api_retrieve(subscription_id)
    if not _in_trial(subscription):
        raise UserError(400, "This subscription is not in a trial.")
    subscription.trial_end = int(time.time())
    subscription.status = "trialing"  # so that a declined first invoice makes it past_due, as Stripe does
    subscription._create_invoice()
    return server.json_response(subscription._export(expand=expand))


REPLAYS: dict[str, tuple[int, bytes]] = {}


@web.middleware
async def idempotency(request, handler):
    """As Stripe: the first response to a key is replayed for every later POST with that key."""
    if request.method == "DELETE" and request.path == "/_config/data":
        REPLAYS.clear()  # a reset forgets the keys too
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    if key in REPLAYS:
        status, body = REPLAYS[key]
        return web.Response(
            status=status, body=body, content_type="application/json", headers={"Idempotent-Replayed": "true"}
        )
    response = await handler(request)
    if response.status < 500 and getattr(response, "body", None) is not None:
        REPLAYS[key] = (response.status, response.body)
    return response


@web.middleware
async def browser_api(request, handler):
    """What Stripe.js does in the browser with the publishable key, before localstripe's own auth check:
    load the script, and create a card payment method."""
    if request.path == "/js.stripe.com/v3/":
        return stripe_js(request)
    if request.path == "/v1/payment_methods" and request.method == "POST":
        data = await server.get_post_data(request, remove_auth=False) or {}
        if str(data.pop("key", "")).startswith("pk_"):
            data.pop("payment_user_agent", None)
            try:
                return server.json_response(resources.PaymentMethod._api_create(**data)._export())
            except UserError as error:
                return error.to_response()
    return await handler(request)


def stripe_js(request) -> web.Response:
    """localstripe's stand-in, then ours (scripts/local_stripe.js): Stripe's card element and createPaymentMethod."""
    source = (Path(server.__file__).parent / "localstripe-v3.js").read_text()
    ours = (Path(__file__).parent / "local_stripe.js").read_text()
    return web.Response(text=source + ours, content_type="application/javascript")


async def create_payment_intent(request) -> web.Response:
    data = await server.get_post_data(request) or {}
    expand = data.pop("expand", None)
    data.pop("description", None)  # accepted by Stripe, unknown to localstripe
    return server.json_response(resources.PaymentIntent._api_create(**data)._export(expand=expand))


@web.middleware
async def forgiving_expand(request, handler):
    """Stripe ignores nothing it knows; localstripe refuses expansions it lacks: retry without them."""
    try:
        return await handler(request)
    except UserError as error:
        if request.method != "GET" or "Bad expand" not in str(error.to_response().body):
            raise
    query = [(k, v) for k, v in request.query.items() if not k.startswith("expand")]
    return await handler(request.clone(rel_url=request.rel_url.with_query(query)))


@web.middleware
async def modern_api(request, handler):
    try:
        if request.method == "GET" and request.path.startswith("/v1/products/") and request.path.endswith("/features"):
            return server.json_response({"object": "list", "data": [], "has_more": False, "url": request.path})
        if request.path == "/v1/account" and request.method == "GET":
            return server.json_response(ACCOUNT)
        if request.path == "/v1/prices" and request.method == "POST":
            return await create_price(request)
        if request.path.startswith("/v1/prices/") and request.method == "GET":
            return server.json_response(
                price_of(resources.Plan._api_retrieve(request.match_info.get("id") or request.path.rsplit("/", 1)[1]))
            )
        if request.path == "/v1/subscriptions" and request.method == "POST":
            return await create_subscription(request)
        if request.path.startswith("/v1/subscriptions/") and request.method == "POST":
            subscription_id = request.path.rsplit("/", 1)[1]
            if (await server.get_post_data(request) or {}).get("trial_end") == "now":
                return await end_trial_now(request, subscription_id)
        if request.path.startswith("/_config/webhooks/") and request.method == "DELETE":
            _webhooks.pop(request.path.rsplit("/", 1)[1], None)
            return web.Response()
        if request.path == "/v1/payment_intents" and request.method == "POST":
            return await create_payment_intent(request)
    except UserError as error:
        return error.to_response()
    return await handler(request)


def _item_fields(item, data: dict) -> None:
    data.setdefault("subscription", item._subscription)
    data["price"] = price_of(item.plan)


def _line_fields(line, data: dict) -> None:
    plan = getattr(line, "plan", None)
    if plan is not None and not isinstance(plan, str):
        data["price"] = price_of(plan)
    data.setdefault("discounts", [])
    data.setdefault("discount_amounts", [])


def _lists_not_null(obj, data: dict) -> None:
    for field in ("default_tax_rates", "discounts", "total_tax_amounts", "total_discount_amounts"):
        if data.get(field) is None:
            data[field] = []


def _in_trial(subscription) -> bool:
    """Before its trial's end and not charged yet (a trial ended early has an invoice)."""
    trial_end = int(subscription.trial_end or 0)
    return trial_end > time.time() and not subscription.latest_invoice


def _subscription_fields(subscription, data: dict) -> None:
    """Stripe's view of a subscription in its trial, which localstripe lacks: `trialing`, its current period
    ending when the trial does (then at the billing cycle anchor, the first period being prorated). Filled on
    export, so the `customer.subscription.created` event (exported while localstripe still builds the
    subscription) says it too, not the `incomplete` it starts with."""
    _lists_not_null(subscription, data)
    anchor = int(subscription.billing_cycle_anchor or 0)
    if _in_trial(subscription):
        data["status"] = "trialing"
        data["trial_start"] = data["trial_start"] or subscription.start_date
        data["current_period_end"] = int(subscription.trial_end)
    elif anchor > time.time():
        data["current_period_end"] = anchor  # after the trial, the prorated first period runs to the anchor
    else:
        return
    for item in (data.get("items") or {}).get("data", []):
        item["current_period_end"] = data["current_period_end"]


# dj-stripe reads fields the 2017 API did not have: fill them in on the way out.
MODERN_FIELDS = {
    resources.SubscriptionItem: _item_fields,
    resources.InvoiceLineItem: _line_fields,
    resources.Subscription: _subscription_fields,
    resources.Invoice: _lists_not_null,
}


def modern_exports() -> None:
    for cls, fill in MODERN_FIELDS.items():

        def export(self, expand=None, _original=cls._export, _fill=fill):
            data = _original(self, expand=expand)
            _fill(self, data)
            return data

        cls._export = export


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state", type=Path, help="keep the state in this file across restarts")
    parser.add_argument("--webhook", help="the app's webhook URL")
    parser.add_argument("--webhook-secret", default="whsec_cedarheightslocal")
    args = parser.parse_args()
    if args.state:
        if args.state.exists():
            resources.store.update(pickle.loads(args.state.read_bytes()))
        resources.Store.dump_to_disk = lambda self: args.state.write_bytes(pickle.dumps(dict(self)))
    else:
        resources.Store.dump_to_disk = lambda self: None  # state lives in this process only
    if args.webhook:
        register_webhook("cedarheights", args.webhook, args.webhook_secret, None)
    # After localstripe's own error and auth middlewares, before its handlers.
    modern_exports()
    server.app.middlewares.insert(1, browser_api)  # after localstripe's error handling, before its auth
    server.app.middlewares.extend([idempotency, forgiving_expand, modern_api])
    lifecycle_api_install()  # issue 17's block at the end of this file
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    print(f"Local Stripe server on http://127.0.0.1:{args.port}", flush=True)
    web.run_app(server.app, sock=sock, print=None, access_log=None)


# --- Issue 17, lifecycle: pause_collection with resumes_at, cancel_at, customer balance transactions ---
# (refunds are localstripe's own). Installed by `lifecycle_api_install` from main().


def _pause_over(subscription) -> None:
    """Stripe resumes collection by itself at `resumes_at`: so does this server, when it next shows the subscription."""
    pause = getattr(subscription, "pause_collection", None)
    if pause and pause.get("resumes_at") and int(pause["resumes_at"]) <= time.time():
        subscription.pause_collection = None


def _lifecycle_subscription_fields(subscription, data: dict) -> None:
    _pause_over(subscription)
    data["pause_collection"] = getattr(subscription, "pause_collection", None)


def _customer_balance_fields(customer, data: dict) -> None:
    data["balance"] = -int(customer.account_balance or 0)  # Stripe's sign: negative is money the customer holds


def update_subscription_lifecycle(subscription_id: str, data: dict) -> web.Response:
    """`pause_collection` set (behavior, resumes_at) or unset (an empty value), and `cancel_at`, on an update."""
    expand = data.pop("expand", None)
    subscription = resources.Subscription._api_retrieve(subscription_id)
    if "pause_collection" in data:
        pause = data.pop("pause_collection")
        if not pause:
            subscription.pause_collection = None
        else:
            if not isinstance(pause, dict) or pause.get("behavior") not in (
                "void",
                "keep_as_draft",
                "mark_uncollectible",
            ):
                raise UserError(400, "Bad pause_collection[behavior]")
            resumes_at = int(pause["resumes_at"]) if pause.get("resumes_at") else None
            subscription.pause_collection = {"behavior": pause["behavior"], "resumes_at": resumes_at}
    data.pop("proration_behavior", None)  # the 2017 API knows `prorate` only; nothing is prorated here anyway
    if data:
        resources.Subscription._api_update(subscription_id, **data)
    resources.store.dump_to_disk()
    return server.json_response(subscription._export(expand=expand))


def customer_balance_transaction_create(customer_id: str, data: dict) -> web.Response:
    customer = resources.Customer._api_retrieve(customer_id)
    try:
        amount = int(data["amount"])
    except (KeyError, TypeError, ValueError):
        raise UserError(400, "Missing or bad amount") from None
    customer.account_balance = int(customer.account_balance or 0) - amount
    transaction = {
        "id": f"cbtxn_{resources.random_id(24)}",
        "object": "customer_balance_transaction",
        "amount": amount,
        "currency": data.get("currency") or "cad",
        "customer": customer_id,
        "description": data.get("description"),
        "ending_balance": -customer.account_balance,
        "metadata": data.get("metadata") or {},
        "type": "adjustment",
        "created": int(time.time()),
        "livemode": False,
    }
    resources.store[f"customer_balance_transaction:{transaction['id']}"] = transaction
    return server.json_response(transaction)


def customer_balance_transactions_list(customer_id: str) -> web.Response:
    resources.Customer._api_retrieve(customer_id)
    found = [
        value
        for key, value in resources.store.items()
        if key.startswith("customer_balance_transaction:") and value["customer"] == customer_id
    ]
    url = f"/v1/customers/{customer_id}/balance_transactions"
    return server.json_response({"object": "list", "data": found, "has_more": False, "url": url})


@web.middleware
async def lifecycle_api(request, handler):
    parts = request.path.strip("/").split("/")
    try:
        if request.method == "POST" and len(parts) == 3 and parts[:2] == ["v1", "subscriptions"]:
            data = await server.get_post_data(request) or {}
            if "pause_collection" in data or "cancel_at" in data:
                return update_subscription_lifecycle(parts[2], dict(data))
        if len(parts) == 4 and parts[:2] == ["v1", "customers"] and parts[3] == "balance_transactions":
            if request.method == "POST":
                return customer_balance_transaction_create(parts[2], await server.get_post_data(request) or {})
            if request.method == "GET":
                return customer_balance_transactions_list(parts[2])
    except UserError as error:
        return error.to_response()
    return await handler(request)


def lifecycle_api_install() -> None:
    for cls, fill in (
        (resources.Subscription, _lifecycle_subscription_fields),
        (resources.Customer, _customer_balance_fields),
    ):

        def export(self, expand=None, _original=cls._export, _fill=fill):
            data = _original(self, expand=expand)
            _fill(self, data)
            return data

        cls._export = export
    server.app.middlewares.append(lifecycle_api)


if __name__ == "__main__":
    main()
