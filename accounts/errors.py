"""What accounts refuse, as domain errors (see cedarheights/errors.py)."""

from cedarheights.errors import DomainError


class LockedOut(DomainError):
    """Too many failed sign-ins for this account from this address, or from this address for any account
    (accounts/lockout.py): a pause of an hour, not a lock, answered the same whether or not the account exists."""

    code = "locked_out"
    status = 429

    def __init__(self, message: str = "Too many failed sign-ins. Try again in an hour, or reset your password."):
        super().__init__(message)


class AccessRequestRefused(DomainError):
    """An access request that cannot be extended or answered as asked (answered already, extended once already,
    past its first 30 days, an answer dated before receipt)."""

    code = "access_request_refused"
    status = 409


class ExportGone(DomainError):
    """A data export's link used once already, or expired: the zip is not given again."""

    code = "export_gone"
    status = 410

    def __init__(self, message: str = "This download link was already used, or it expired. Ask for a new export."):
        super().__init__(message)


class NewsAlreadySent(DomainError):
    """A school news email goes once."""

    code = "news_already_sent"
    status = 409
