"""Turning a statement's figures into a PDF/A-3b document, safely and reproducibly.

Templates receive plain dicts only (the figures, the audit checkpoint, the issue date), never ORM
objects, and autoescape everything a user typed. WeasyPrint loads nothing from outside: the
fetcher refuses every URL (``file:``, the network, everything), the styles are inline and the
fonts come from the system (Noto CJK). The figures travel inside the PDF as a JSON attachment,
so a reader can check every number by machine.

The output is byte-for-byte reproducible: nothing in it depends on the clock or the machine.
The document's dates are the checkpoint's signing time, and the PDF identifier is derived from
the statement's own content, so the same books at the same checkpoint give the same file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import jinja2
import rfc8785

from ledger.business_dates import business_today

LANGUAGES = ("zh", "en")

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("ledger", "templates/statements"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def money(amount: str | None) -> str:
    """``"1234567.5"`` -> ``"1,234,567.50"``: thousands separators, the amount's own decimals."""
    if amount is None:
        return ""
    value = Decimal(amount)
    places = max(0, -value.as_tuple().exponent)  # type: ignore[operator]
    return f"{value:,.{places}f}"


def percent(text: str | None) -> str:
    return "" if text is None else f"{text}%"


_environment.filters["money"] = money
_environment.filters["percent"] = percent


@dataclass(frozen=True)
class CheckpointStamp:
    """The signed audit checkpoint a statement was drawn from."""

    size: int
    root_hash: str
    key_id: str
    signed_at: datetime
    origin: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "tree_size": self.size,
            "root_hash": self.root_hash,
            "key_id": self.key_id,
            "signed_at": self.signed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "origin": self.origin,
        }


@dataclass(frozen=True)
class IssuedStatement:
    """A rendered statement: the PDF, a file name for it, and what it embeds."""

    pdf: bytes
    filename: str
    checkpoint: CheckpointStamp

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


def statement_document(figures: Mapping[str, Any], checkpoint: CheckpointStamp) -> dict[str, Any]:
    """What the PDF embeds as ``statement.json``: the figures and the checkpoint they came from."""
    return {"figures": dict(figures), "checkpoint": checkpoint.as_dict()}


def statement_html(
    template: str,
    figures: Mapping[str, Any],
    checkpoint: CheckpointStamp,
    *,
    title_zh: str,
    title_en: str,
    lang: str = "zh",
) -> str:
    """The statement as the HTML WeasyPrint lays out (templates see plain dicts only)."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}")
    context = {
        "figures": figures,
        "checkpoint": checkpoint.as_dict(),
        "lang": lang,
        "title_zh": title_zh,
        "title_en": title_en,
        # The day the checkpoint was signed where the hub is (LEDGER_TIME_ZONE), not in UTC.
        "issued_on": business_today(checkpoint.signed_at).isoformat(),
        "created": checkpoint.signed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return _environment.get_template(template).render(context)


def render_statement(
    template: str,
    figures: Mapping[str, Any],
    checkpoint: CheckpointStamp,
    *,
    title_zh: str,
    title_en: str,
    lang: str = "zh",
) -> bytes:
    """Render ``template`` with ``figures`` to PDF/A-3b bytes, the figures attached as JSON."""
    html = statement_html(template, figures, checkpoint, title_zh=title_zh, title_en=title_en, lang=lang)
    return html_to_pdf(html, statement_document(figures, checkpoint), checkpoint.signed_at)


def html_to_pdf(html: str, document: Mapping[str, Any], created: datetime) -> bytes:
    """Lay ``html`` out as tagged PDF/A-3b with ``document`` attached as ``statement.json``."""
    import weasyprint  # heavy (Pango, fonts): only when a statement is made

    attached = rfc8785.dumps(dict(document))
    attachment = weasyprint.Attachment(
        string=attached.decode("utf-8"),
        name="statement.json",
        description="The statement's figures and the audit checkpoint they were drawn from",
        relationship="Data",
        created=created,
        modified=created,
    )
    return bytes(
        weasyprint.HTML(string=html, url_fetcher=_refusing_fetcher()).write_pdf(
            pdf_variant="pdf/a-3b",
            # Tagged: a screen reader gets headings, paragraphs and each table's rows and cells.
            pdf_tags=True,
            attachments=[attachment],
            # The identifier is the same for the same statement: a hash of what it says.
            pdf_identifier=hashlib.sha256(attached + html.encode("utf-8")).hexdigest()[:32].encode("ascii"),
        )
    )


def _refusing_fetcher() -> Any:
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    class RefuseEveryUrl(URLFetcher):  # type: ignore[misc]
        """Statements are self-contained: any URL in a template is a mistake (or an attack)."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            raise FatalURLFetchingError(f"a statement loads nothing from outside; refused {url[:80]!r}")

    return RefuseEveryUrl()
