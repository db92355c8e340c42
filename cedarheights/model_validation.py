"""A model's own validation, trusted only when the database answered it."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import OperationalError, connections, models, router


def model_validate(obj: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    """`obj.full_clean()`, except that a refusal found while the database is unreachable is an outage.

    Django's `Q.check` (how a conditional UniqueConstraint is validated) logs a database error and answers
    "violated": a connection ended mid-request would become a 400 the client must not retry, not a 503 it does.
    """
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError:
        if not connections[router.db_for_write(type(obj))].is_usable():
            raise OperationalError("the database went away while a record was validated") from None
        raise
