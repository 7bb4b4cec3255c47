"""One error type for business rules, rendered as a JSON problem (API) or an HTML message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class DomainError(Exception):
    """A rule was broken. `code` is stable and machine-readable; `message` is for people."""

    status_code = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        if status is not None:
            self.status_code = status
        self.extra = extra or {}

    def as_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return body


class NotFound(DomainError):
    status_code = 404

    def __init__(self, what: str = "object") -> None:
        super().__init__("not_found", f"{what} not found")


class Forbidden(DomainError):
    status_code = 403

    def __init__(self, message: str = "You may not do this") -> None:
        super().__init__("forbidden", message)


class Unauthorized(DomainError):
    status_code = 401

    def __init__(self, message: str = "Authentication required") -> None:
        super().__init__("unauthorized", message)


class Conflict(DomainError):
    status_code = 409


class Invalid(DomainError):
    status_code = 422


def validation_problem(errors: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The 422 body of a request that failed validation (pydantic's error list): the first
    error's field and message, then up to 20 errors with their full location."""
    first = errors[0] if errors else {}
    location = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    return {
        "code": "invalid_request",
        "message": str(first.get("msg", "Invalid request")),
        "field": ".".join(location) or None,
        "errors": [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())),
                "message": str(e.get("msg", "")),
                "type": e.get("type"),
            }
            for e in errors[:20]
        ],
    }
