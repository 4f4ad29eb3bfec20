"""Domain errors raised by services and turned into messages (pages) or 4xx (API)."""

from __future__ import annotations


class DomainError(Exception):
    status = 400


class ValidationError(DomainError):
    """Bad input; `errors` maps each field to its messages."""

    status = 422

    def __init__(self, errors: dict[str, list[str] | str]):
        self.errors = {k: ([v] if isinstance(v, str) else list(v)) for k, v in errors.items()}
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items()))


class ConflictError(DomainError):
    """Somebody else saved the record since this edit began."""

    status = 409

    def __init__(self, message: str, current: dict | None = None):
        self.current = current or {}
        super().__init__(message)


class NotFoundError(DomainError):
    """The record does not exist, or the actor may not know it exists (the same answer)."""

    status = 404

    def __init__(self, message: str = "Not found, or not yours to see."):
        super().__init__(message)


class ForbiddenError(DomainError):
    """The actor may see the record but not do this to it."""

    status = 403

    def __init__(self, message: str = "You may not do this."):
        super().__init__(message)


# The app's own words for a refusal that came without a message of its own (a bare abort(403),
# Flask-Login, a route that does not exist): pages and the API say the same.
HTTP_MESSAGES = {
    403: "You may not open this page: it is outside your role or your area. If your work "
         "needs it, ask your supervisor or an administrator.",
    404: "Not found, or not yours to see. Check the address, or go back and follow a link.",
    405: "This address does not take that kind of request.",
}


def http_message(code: int | None, description: str | None, default: str | None) -> str:
    """What to tell the user: the refusal's own message, or the app's words for its status
    when it only carries the framework's generic text (`default`)."""
    if description and description != default:
        return description
    return HTTP_MESSAGES.get(code or 0, description or "")
