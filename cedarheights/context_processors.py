from django.utils.functional import SimpleLazyObject

from cedarheights.selectors import privacy_officer


def privacy(request) -> dict:
    """The privacy officer every page's footer names; read only by a page that shows it."""
    return {"privacy_officer": SimpleLazyObject(privacy_officer)}
