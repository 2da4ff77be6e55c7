"""Domain errors: what went wrong, in terms a client can act on.

Services raise these; one handler in ``ledger.problems`` turns each into an RFC 9457
``application/problem+json`` response. Each class has a stable ``slug`` that becomes the
problem ``type``, so clients can branch on it without parsing English; each error also carries a
stable ``code`` naming the rule that refused (``"disbursement.over_award"``; the class's slug
when no finer code is given) and the ``params`` of its message.

Messages are made with ``ledger.messages.translatable``: English for the API, and kept as msgid
and parameters so that the pages show them in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ledger.messages import Message, in_language, translatable


class LedgerError(Exception):
    """Base of every error the service reports to a client."""

    status: int = 400
    slug: str = "bad-request"
    title: str = translatable("Bad request")

    def __init__(
        self, detail: str, *, errors: Mapping[str, Sequence[str]] | None = None, code: str | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in (errors or {}).items()}
        self.code = code or self.slug

    @property
    def params(self) -> dict[str, object]:
        """The parameters of the detail message (empty when it was not made translatable)."""
        return dict(self.detail.params) if isinstance(self.detail, Message) else {}


class ValidationFailed(LedgerError):
    """The request is well formed but its content breaks a rule; ``errors`` names each field."""

    status = 422
    slug = "validation-failed"
    title = translatable("The request has invalid fields")

    @classmethod
    def field(cls, name: str, message: str, *, code: str | None = None) -> ValidationFailed:
        """One field refused: ``message`` is best made with ``translatable`` (shown translated)."""
        return cls(
            translatable("%(field)s: %(message)s", field=name, message=message),
            errors={name: [message]},
            code=code,
        )


def listed(errors: Mapping[str, Sequence[str]]) -> Message:
    """The first message of each field as one message, ``"field: message; field: message"``.

    Each part stays a ``Message``, so a page shows the whole list in the reader's language.
    """
    parts = [
        translatable("%(field)s: %(message)s", field=name, message=ms[0]) for name, ms in errors.items() if ms
    ]
    if not parts:
        raise ValueError("listed() needs at least one field with a message")
    joined = parts[-1]
    for part in reversed(parts[:-1]):
        joined = translatable("%(first)s; %(rest)s", first=part, rest=joined)
    return joined


class Unauthenticated(LedgerError):
    status = 401
    slug = "unauthenticated"
    title = translatable("Authentication required")


class Forbidden(LedgerError):
    status = 403
    slug = "forbidden"
    title = translatable("Not allowed")


class NotFound(LedgerError):
    status = 404
    slug = "not-found"
    title = translatable("Not found")

    @classmethod
    def thing(cls, kind: str, identifier: object) -> NotFound:
        return cls(
            translatable("There is no %(kind)s %(identifier)s.", kind=kind, identifier=str(identifier))
        )


class Conflict(LedgerError):
    status = 409
    slug = "conflict"
    title = translatable("Conflicts with the current state")


class PreconditionFailed(LedgerError):
    """An ``If-Match`` names a version that is no longer current."""

    status = 412
    slug = "precondition-failed"
    title = translatable("The resource has changed")


class PreconditionRequired(LedgerError):
    status = 428
    slug = "precondition-required"
    title = translatable("If-Match header required")


class TooManyRequests(LedgerError):
    status = 429
    slug = "too-many-requests"
    title = translatable("Too many attempts")

    def __init__(self, detail: str, *, retry_after_seconds: int, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after_seconds = retry_after_seconds


class NotConfigured(LedgerError):
    """The service lacks a setting this request needs; ``errors`` names each ``LEDGER_*`` variable."""

    status = 503
    slug = "not-configured"
    title = translatable("The service is not configured for this")


class MoneyAsNumber(LedgerError):
    """Money sent as a JSON number: refused before anything else, because it may already be rounded."""

    status = 400
    slug = "money-as-number"
    title = translatable("Money must be a decimal string")


class RowProblem:
    """One problem of an uploaded table: where it is (row, column letter, the column's header and
    field, each None where it does not apply), the rule that refused (``code``) and the message."""

    __slots__ = ("code", "column", "field", "header", "message", "row")

    def __init__(
        self,
        row: int | None,
        column: str | None,
        field: str | None,
        code: str,
        message: str,
        header: str | None = None,
    ) -> None:
        self.row, self.column, self.field, self.code, self.message, self.header = (
            row,
            column,
            field,
            code,
            message,
            header,
        )

    def listed(self, lang: str) -> dict[str, object]:
        """As the API lists it: the message and the header in ``lang`` (``zh`` or ``en``)."""
        return {
            "row": self.row,
            "column": self.column,
            "header": None if self.header is None else in_language(self.header, lang),
            "field": self.field,
            "code": self.code,
            "detail": in_language(self.message, lang),
        }


class RowsRefused(ValidationFailed):
    """An uploaded table refused: every problem found, by row and column (nothing was written).

    The problem+json lists them as ``errors: [{row, column, header, field, code, detail}]``,
    each ``detail`` in the caller's language (Accept-Language), as the pages show them.
    """

    def __init__(self, detail: str, problems: Sequence[RowProblem], *, code: str) -> None:
        super().__init__(detail, code=code)
        self.problems = list(problems)

    def listed(self, lang: str) -> list[dict[str, object]]:
        return [problem.listed(lang) for problem in self.problems]
