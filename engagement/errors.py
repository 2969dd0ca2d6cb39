"""Domain errors: each has a stable ``code`` and a reason an adapter can show to a person."""

from __future__ import annotations


class EngagementError(Exception):
    """Base of every error the core raises on purpose; never means a bug."""

    code = "error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def as_dict(self) -> dict[str, object]:
        """The error as a JSON-ready mapping (adapters add nothing private to it)."""
        return {"code": self.code, "reason": self.reason}


class NotFound(EngagementError):
    code = "not_found"


class SiteNotFound(NotFound):
    code = "site_not_found"


class CommentNotFound(NotFound):
    code = "comment_not_found"


class PageNotFound(NotFound):
    code = "page_not_found"


class InvalidInput(EngagementError):
    """A value a caller sent is unacceptable; ``field`` names it."""

    code = "invalid"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.detail = reason

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "reason": self.reason, "field": self.field}


class InvalidToken(EngagementError):
    """A signed link or edit token is malformed, forged, expired or for another purpose."""

    code = "invalid_token"


class Forbidden(EngagementError):
    code = "forbidden"


class EditWindowClosed(Forbidden):
    code = "edit_window_closed"


class Banned(Forbidden):
    code = "banned"


class Conflict(EngagementError):
    code = "conflict"


class RateLimited(EngagementError):
    """Too many requests; ``retry_after`` is in whole seconds."""

    code = "rate_limited"

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = max(1, retry_after)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "reason": self.reason, "retry_after": self.retry_after}


class Unauthenticated(EngagementError):
    """A request that must prove who sent it did not (a missing or wrong signature)."""

    code = "unauthenticated"


class SignInRequired(Unauthenticated):
    """The site lets only readers its own site signed in write; the widget offers "Sign in"."""

    code = "sign_in_required"


class Malformed(EngagementError):
    """A request the server cannot read at all (not JSON, an unknown event)."""

    code = "malformed"


class SignInFailed(Unauthenticated):
    """A wrong address or a wrong password: one message for both, so neither can be probed."""

    code = "sign_in_failed"


class SessionExpired(Unauthenticated):
    """An admin session that is missing, ended or idle too long: sign in again."""

    code = "session_expired"


class UnknownItems(EngagementError):
    """A request names things that do not exist (a bulk action's unknown comment)."""

    code = "unknown_items"


class BadImportFile(InvalidInput):
    """A file given to an import cannot be read as its format says; ``where`` is the position."""

    code = "bad_import_file"

    def __init__(self, path: object, where: str | None, reason: str) -> None:
        place = f"{path}, {where}" if where else str(path)
        super().__init__(place, reason)


class LiveUnavailable(EngagementError):
    """Live updates cannot be served now (the notices' channel is away); ``retry_after`` in seconds."""

    code = "live_unavailable"

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = max(1, retry_after)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "reason": self.reason, "retry_after": self.retry_after}


class StreamsFull(LiveUnavailable):
    """This process holds its maximum of live streams."""

    code = "streams_full"
