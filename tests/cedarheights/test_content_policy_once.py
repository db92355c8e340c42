"""The content policy header is built once for the responses that all get the same one (issue 20: the request's
fixed costs), and stays exactly what django-csp would send.

Made to fail first: with the fixed header keyed on nothing, the test that changes STRIPE_JS_URL kept the old origin;
with the nonce check removed, the page that used a nonce lost it from its header."""

from csp.constants import HEADER
from csp.middleware import CSPMiddleware
from django.http import HttpResponse

from cedarheights.middleware import ContentSecurityPolicyMiddleware


def answer(middleware_class, rf, view=lambda request: HttpResponse("ok")):
    return middleware_class(view)(rf.get("/"))


class DjangoCspOwn(ContentSecurityPolicyMiddleware):
    """The same policy, always through django-csp's own road (what ours must equal)."""

    process_response = CSPMiddleware.process_response


def test_a_response_without_a_nonce_gets_django_csps_own_header_each_time(rf):
    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse("ok"))
    first, second = middleware(rf.get("/")), middleware(rf.get("/api/v1/auth/me/"))
    assert first[HEADER] == second[HEADER] == answer(DjangoCspOwn, rf)[HEADER]
    assert "nonce-" not in first[HEADER]


def test_a_changed_stripe_origin_changes_the_header(rf, settings):
    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse("ok"))
    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"
    before = middleware(rf.get("/"))[HEADER]
    settings.STRIPE_JS_URL = "http://127.0.0.1:12111/js.stripe.com/v3/"
    after = middleware(rf.get("/"))[HEADER]
    assert "http://127.0.0.1:12111" in after and "http://127.0.0.1:12111" not in before


def test_a_page_that_used_a_nonce_gets_it_in_its_header_after_one_that_did_not(rf):
    def page(request):
        if request.path == "/plain/":
            return HttpResponse("ok")
        return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")

    middleware = ContentSecurityPolicyMiddleware(page)
    plain = middleware(rf.get("/plain/"))
    response = middleware(rf.get("/with-a-script/"))
    nonce = response.content.decode().split("'")[1]
    assert f"'nonce-{nonce}'" in response[HEADER] and "nonce-" not in plain[HEADER]
