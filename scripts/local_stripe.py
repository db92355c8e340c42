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
from contextlib import contextmanager
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
        item["_coupons"] = _coupons_of(item.pop("discounts", None))
    if payment_method := data.pop("default_payment_method", None):
        resources.Customer._api_update(data["customer"], invoice_settings={"default_payment_method": payment_method})
    for unsupported in ("payment_settings", "collection_method", "off_session"):
        data.pop(unsupported, None)
    asked = [dict(item) for item in data.get("items") or []]
    for item in data.get("items") or []:
        item.pop("_coupons", None)
    subscription = resources.Subscription._api_create(**data)
    subscription_tuition_fields(subscription, asked, data.get("proration_behavior"))
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
    if getattr(subscription, "_proration_none", False) and int(subscription.billing_cycle_anchor or 0) > time.time():
        end_trial_before_anchor(subscription)
    else:
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


# --- Tuition: coupons on subscription items and invoice items, proration "none" with a billing cycle anchor, invoice
# items added to a draft, a renewal left in its draft window, and a subscription item's price and coupons changed. ---
# Stripe's coupons take their share of what the discounts before them left, rounded half up to the cent; the app's
# own arithmetic (billing/tuition/lines.py) is the same, so an invoice here says what our lines say.


def _coupon_off(coupon, left: int) -> int:
    if left <= 0:
        return 0
    if coupon.percent_off is not None:
        return min(left, (left * round(coupon.percent_off) + 50) // 100)
    return min(left, coupon.amount_off or 0)


def _line_discount_amounts(line) -> list[dict]:
    amounts, left = [], line.amount
    for coupon_id in getattr(line, "_coupons", []):
        off = _coupon_off(resources.Coupon._api_retrieve(coupon_id), left)
        amounts.append({"amount": off, "discount": f"di_{coupon_id}", "coupon": coupon_id})
        left -= off
    return amounts


def _invoice_discount_total(invoice) -> int:
    return sum(a["amount"] for line in invoice.lines._list for a in _line_discount_amounts(line))


def _coupons_of(entries) -> list[str]:
    """`discounts=[{"coupon": id}, …]` as sent by the API, checked: each coupon must exist."""
    coupons = [entry["coupon"] for entry in entries or [] if isinstance(entry, dict) and entry.get("coupon")]
    for coupon_id in coupons:
        resources.Coupon._api_retrieve(coupon_id)  # 404 when unknown, as Stripe
    return coupons


def tuition_patches() -> None:
    """Lines remember their source's coupons; invoices subtract them from their total."""
    line_init = resources.InvoiceLineItem.__init__

    def line_with_coupons(self, item, _original=line_init):
        _original(self, item)
        self._coupons = list(getattr(item, "_coupons", []))

    resources.InvoiceLineItem.__init__ = line_with_coupons
    resources.InvoiceLineItem.discount_amounts = property(_line_discount_amounts)
    resources.InvoiceLineItem.discounts = property(lambda self: [f"di_{c}" for c in self._coupons])
    resources.Invoice.total_discount_amounts = property(
        lambda self: [a for line in self.lines._list for a in _line_discount_amounts(line)]
    )
    resources.Invoice.total = property(
        lambda self: max(0, self.subtotal - _invoice_discount_total(self) + self.tax - self.starting_balance)
    )


async def create_invoice_item(request) -> web.Response:
    """Invoice items with `discounts`; one made for a draft invoice (`invoice=`) joins its lines at once."""
    data = await server.get_post_data(request) or {}
    coupons = _coupons_of(data.pop("discounts", None))
    item = resources.InvoiceItem._api_create(**data)
    item._coupons = coupons
    if item.invoice:
        invoice = resources.Invoice._api_retrieve(item.invoice)
        if invoice.status != "draft":
            raise UserError(400, "Invoice items can be added to a draft invoice only.")
        invoice.lines._list.append(resources.InvoiceLineItem(item))
    return server.json_response(item._export())


def subscription_tuition_fields(subscription, items: list[dict], proration_behavior: str | None) -> None:
    """After localstripe made the subscription: its item's coupons, and whether the time before its anchor is free."""
    subscription._proration_none = proration_behavior == "none"
    for item, asked in zip(subscription.items._list, items, strict=False):
        item._coupons = asked.get("_coupons", [])


@contextmanager
def pending_items_of(subscription):
    """As Stripe: a pending invoice item made for a subscription joins that subscription's invoice only (localstripe
    takes every pending item of the customer); the others are held aside meanwhile."""
    held = [
        item
        for item in resources.InvoiceItem._api_list_all(None, customer=subscription.customer, limit=99)._list
        if item.invoice is None and item.subscription not in (None, subscription.id)
    ]
    for item in held:
        item.invoice = "held"
    try:
        yield
    finally:
        for item in held:
            item.invoice = None


def end_trial_before_anchor(subscription) -> None:
    """A trial ending before a billing cycle anchor, with proration "none": as Stripe, nothing is charged for the
    days up to the anchor; only pending invoice items (a first month's lessons) are invoiced and charged."""
    with pending_items_of(subscription):
        invoice = resources.Invoice(customer=subscription.customer, subscription=subscription.id, items=[])
    invoice.billing_reason = "subscription_create"
    invoice._finalize()
    if invoice.status != "paid":
        resources.Invoice._api_pay_invoice(invoice.id)
    if invoice.status == "paid":
        subscription.status = "active"
    elif invoice.charge and invoice.charge.status == "failed":
        subscription.status = "past_due"


async def renew_subscription(request, subscription_id: str) -> web.Response:
    """`POST /_config/subscriptions/{id}/renew`: the next period's invoice, left a draft as Stripe leaves a renewal
    for about an hour after `invoice.created` (a test then adds items and pays it: `POST /v1/invoices/{id}/pay`)."""
    data = await server.get_post_data(request) or {}
    subscription = resources.Subscription._api_retrieve(subscription_id)
    with pending_items_of(subscription):
        invoice = resources.Invoice(
            customer=subscription.customer, subscription=subscription.id, items=list(subscription.items._list)
        )
    invoice.billing_reason = "subscription_cycle"
    if period_start := data.get("period_start"):  # the period it bills (no test clocks here to reach it)
        for line in invoice.lines._list:
            if line.type == "subscription":
                line.period = {"start": int(period_start), "end": line.period["end"]}
    subscription.latest_invoice = invoice.id
    return server.json_response(invoice._export())


async def update_subscription_item(request, item_id: str) -> web.Response:
    """`POST /v1/subscription_items/{id}`: its price and `discounts` (an empty value clears them), from its next
    invoice (`proration_behavior` none is the only behaviour here: nothing is invoiced now)."""
    data = await server.get_post_data(request) or {}
    item = resources.SubscriptionItem._api_retrieve(item_id)
    coupons = _coupons_of(data.pop("discounts", None)) if "discounts" in data else list(getattr(item, "_coupons", []))
    if price := data.pop("price", None):
        item.plan = resources.Plan._api_retrieve(price)
    item._coupons = coupons
    return server.json_response(item._export())


@web.middleware
async def tuition_api(request, handler):
    try:
        if request.path == "/v1/invoiceitems" and request.method == "POST":
            return await create_invoice_item(request)
        if request.path == "/v1/coupons" and request.method == "POST":
            data = await server.get_post_data(request) or {}
            data.pop("name", None)  # Stripe's label, unknown to localstripe
            return server.json_response(resources.Coupon._api_create(**data)._export())
        if request.path.startswith("/v1/subscription_items/") and request.method == "POST":
            return await update_subscription_item(request, request.path.rsplit("/", 1)[1])
        if request.path.startswith("/_config/subscriptions/") and request.path.endswith("/renew"):
            return await renew_subscription(request, request.path.split("/")[3])
    except UserError as error:
        return error.to_response()
    return await handler(request)


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
    tuition_patches()
    server.app.middlewares.extend([idempotency, forgiving_expand, modern_api, tuition_api])
    lifecycle_api_install()  # pause_collection, cancel_at and balances: the block at the end of this file
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    print(f"Local Stripe server on http://127.0.0.1:{args.port}", flush=True)
    web.run_app(server.app, sock=sock, print=None, access_log=None)


# --- Lifecycle: pause_collection with resumes_at, cancel_at, customer balance transactions ---
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
