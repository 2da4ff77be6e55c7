"""Beancount export: an organisation's books as a plain-text ledger anyone can check offline.

`Beancount <https://beancount.github.io/>`_ reads a text file of dated directives and checks it
(``bean-check``): every transaction balances, every account is opened before use, every balance
assertion holds and every document exists. The export writes one such file per organisation, so
an auditor or a funder can re-add the books with a tool the service does not control::

    DIR/<credit code>.beancount                     the books of one organisation
    DIR/documents/<credit code>/<date>.<credit code>.report-<id>.line-<n>.<pdf|jpg|png>
                                                    its receipts, decrypted

**Accounts.** Beancount wants a root named Assets, Liabilities, Equity, Income or Expenses and
name components that start with a capital letter or a digit. Each account of the chart becomes
``<root>:<code>-<EnglishNameInCamelCase>``, in ASCII only, the root taken from the account's class
(asset -> Assets, liability -> Liabilities, net assets -> Equity, revenue -> Income, expense ->
Expenses): ``Assets:1002-BankDeposits``, ``Equity:3102-RestrictedNetAssets``,
``Expenses:5101-ProgramBusinessActivityCosts``. The code leads, so accounts sort as in the chart
and stay unique; the ``open`` directive carries the code, the chart version and the Chinese and
English names as metadata. Accounts are opened on the date of the organisation's first entry,
each limited to the currencies it is used in; the file's operating currencies are those used.

**Transactions.** One per journal entry, ordered by date, creation time and id; the narration is
the entry's description, the metadata its id, source and source id, and the link
``^entry-<journal entry id>`` that its receipts carry too. Debits are positive and credits
negative, written from the stored integer minor units (never through a float). Every fund on an
entry is a tag (``#fund-<fund reference>``, reduced to Beancount's tag characters) and every
posting keeps its fund (by its reference, as people know it) and restriction as metadata.

**Balance assertions.** After each month with postings, and after each closed accounting period,
a ``balance`` for every account and currency used so far, dated the first day of the next month:
Beancount checks a balance at the start of its date, so the assertion covers exactly that month
and those before it. The figures are the sums of the exported postings; ``bean-check`` proves the
file still adds up to them (and so catches an edited or truncated file).

**Documents.** The receipts of each approved expense report, decrypted, as ``document`` directives
on the expense account of their line, dated like the report's journal entry, once per account and
date, linked (``^entry-...``) to that entry's transaction; the paths are relative to the
``.beancount`` file, as Beancount resolves them. A receipt's file is named, Beancount's way, by
the date, the organisation, the report and the first line it supports.

The same books always give the same bytes: nothing depends on the time or place of the export.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

from sqlalchemy import select

from ledger.errors import Conflict
from ledger.extensions import db
from ledger.models.books import AccountingPeriod, JournalEntry, PeriodStatus, Posting, Side
from ledger.models.expense_report import ExpenseReport, Receipt, ReportStatus
from ledger.models.fund import Fund
from ledger.models.organisation import Organisation
from ledger.models.reference import Account, ExpenseCategory
from ledger.money import Money

PROGRESS_EVERY: Final = 1_000
_ROOTS: Final[dict[str, str]] = {
    "asset": "Assets",
    "liability": "Liabilities",
    "net_assets": "Equity",
    "revenue": "Income",
    "expense": "Expenses",
}
# For a code missing from its chart (the books refuse such postings): the chart's numbering.
_ROOTS_BY_DIGIT: Final[dict[str, str]] = dict(zip("12345", _ROOTS.values(), strict=True))
_EXTENSIONS: Final[dict[str, str]] = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
_ESCAPES: Final[dict[str, str]] = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class BeancountExport:
    """What an export wrote: ``files`` are the ``.beancount`` files, one per organisation."""

    files: list[Path]
    organisations: int
    transactions: int
    documents: int


@dataclass(frozen=True)
class _Document:
    account: str
    relative_path: str
    expense_report_id: uuid.UUID
    entry_id: uuid.UUID


@dataclass(frozen=True)
class _Books:
    """What one organisation's file needs before its entries are streamed."""

    accounts: dict[tuple[str, str], str]  # (chart version, code) -> Beancount account
    opens: list[str]
    currencies: list[str]
    assertion_dates: list[date]
    fund_tags: dict[uuid.UUID, str]
    fund_references: dict[uuid.UUID, str]


ReceiptReader = Callable[[str], tuple[Receipt, bytes]]
"""A receipt and its decrypted bytes by SHA-256, as the caller may read it."""

CategoryLookup = Callable[[str], Mapping[str, ExpenseCategory]]
"""The expense categories of a list version, by code."""


def write_books(
    organisations: list[Organisation],
    directory: Path,
    read_receipt: ReceiptReader,
    categories_of: CategoryLookup,
    progress: Callable[[int], None] | None = None,
) -> BeancountExport:
    """Write the books of ``organisations`` (the caller may read them) into an empty ``directory``."""
    if directory.exists() and any(directory.iterdir()):
        raise Conflict(f"{directory} is not empty; export into a new folder.")
    directory.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    transactions = documents = 0
    for organisation in organisations:
        path, written, attached = _export_organisation(
            organisation, directory, read_receipt, categories_of, transactions, progress
        )
        files.append(path)
        transactions += written
        documents += attached
    return BeancountExport(files, len(organisations), transactions, documents)


def _export_organisation(
    organisation: Organisation,
    directory: Path,
    read_receipt: ReceiptReader,
    categories_of: CategoryLookup,
    done: int,
    progress: Callable[[int], None] | None,
) -> tuple[Path, int, int]:
    """Write one organisation's file and receipts; (file, transactions, document directives)."""
    # A filed (备案) organisation has no credit code: its file is named by its id.
    name = safe_name(organisation.credit_code or f"filed-{organisation.id}")
    books = _books(organisation.id)
    documents = _write_receipts(organisation.id, directory, name, books.accounts, read_receipt, categories_of)
    path = directory / f"{name}.beancount"
    written = attached = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(f"; The books of organisation {name}, exported from Community Fund Ledger.\n")
        out.write(f"option {quote('title')} {quote(organisation.name)}\n")
        for currency in books.currencies:
            out.write(f"option {quote('operating_currency')} {quote(currency)}\n")
        out.write("\n")
        for open_directive in books.opens:
            out.write(open_directive)
        totals: dict[tuple[str, str], int] = {}
        pending = list(books.assertion_dates)
        for entry in _entries(organisation.id):
            while pending and pending[0] <= entry.entry_date:
                out.write(_balances(pending.pop(0), totals))
            out.write(_transaction(entry, books, totals))
            for document in documents.get(entry.id, []):
                out.write(_document(entry.entry_date, document))
                attached += 1
            written += 1
            if progress is not None and (done + written) % PROGRESS_EVERY == 0:
                progress(done + written)
        for day in pending:
            out.write(_balances(day, totals))
    return path, written, attached


def quote(text: str) -> str:
    """``text`` as a Beancount string literal: C-style escapes; other control characters become spaces."""
    escaped = "".join(_ESCAPES.get(character, character) for character in _CONTROL.sub(" ", text))
    return f'"{escaped}"'


def safe_name(text: str) -> str:
    """A file name part: letters, digits, ``-``, ``_`` and ``.``; anything else becomes ``-``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", text).lstrip(".") or "-"


def account_name(code: str, account: Account | None) -> str:
    """The Beancount account of chart account ``code`` (see the module docstring)."""
    if account is not None:
        root = _ROOTS[account.account_class]
        english = "".join(word[0].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", account.name_en))
    else:
        root, english = _ROOTS_BY_DIGIT[code[:1]], ""
    component = re.sub(r"[^A-Za-z0-9]", "-", code).upper()
    return f"{root}:{component}-{english}" if english else f"{root}:{component}"


def fund_tag(reference: str) -> str:
    """``fund-<reference>`` with anything outside Beancount's tag characters replaced by ``-``."""
    return "fund-" + re.sub(r"[^A-Za-z0-9_./-]", "-", reference)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _books(organisation_id: uuid.UUID) -> _Books:
    used: dict[tuple[str, str], set[str]] = defaultdict(set)
    for chart, code, currency in db.session.execute(
        select(JournalEntry.chart_version, Posting.account_code, Posting.currency)
        .select_from(Posting)
        .join(JournalEntry, JournalEntry.id == Posting.journal_entry_id)
        .where(Posting.organisation_id == organisation_id)
        .distinct()
    ):
        used[(chart, code)].add(currency)
    charts = {chart for chart, _code in used}
    chart_accounts = {
        (a.chart_version, a.code): a
        for a in db.session.scalars(select(Account).where(Account.chart_version.in_(charts)))
    }
    accounts = {key: account_name(key[1], chart_accounts.get(key)) for key in used}
    entry_dates = set(
        db.session.scalars(
            select(JournalEntry.entry_date).where(JournalEntry.organisation_id == organisation_id).distinct()
        )
    )
    first_date = min(entry_dates, default=None)
    closed = db.session.execute(
        select(AccountingPeriod.year, AccountingPeriod.month).where(
            AccountingPeriod.organisation_id == organisation_id,
            AccountingPeriod.status == PeriodStatus.CLOSED.value,
        )
    )
    assertion_dates = {_next_month(day) for day in entry_dates} | {
        _next_month(date(year, month, 1)) for year, month in closed
    }
    funds = list(
        db.session.execute(select(Fund.id, Fund.reference).where(Fund.organisation_id == organisation_id))
    )
    return _Books(
        accounts=accounts,
        opens=_opens(first_date, used, accounts, chart_accounts),
        currencies=sorted({c for currencies in used.values() for c in currencies}) or ["CNY"],
        assertion_dates=sorted(assertion_dates),
        fund_tags={fund_id: fund_tag(reference) for fund_id, reference in funds},
        fund_references={fund_id: reference for fund_id, reference in funds},
    )


def _opens(
    first_date: date | None,
    used: dict[tuple[str, str], set[str]],
    accounts: dict[tuple[str, str], str],
    chart_accounts: dict[tuple[str, str], Account],
) -> list[str]:
    """One ``open`` per Beancount account, in name order (two chart versions may share one)."""
    by_name: dict[str, tuple[set[str], list[tuple[str, str]]]] = defaultdict(lambda: (set(), []))
    for key, name in accounts.items():
        by_name[name][0].update(used[key])
        by_name[name][1].append(key)
    opens = []
    for name, (currencies, keys) in sorted(by_name.items()):
        chart, code = min(keys)
        lines = [f"{first_date} open {name} {','.join(sorted(currencies))}", f"  code: {quote(code)}"]
        lines.append(f"  chart: {quote(chart)}")
        account = chart_accounts.get((chart, code))
        if account is not None:
            lines += [f"  name_zh: {quote(account.name_zh)}", f"  name_en: {quote(account.name_en)}"]
        opens.append("\n".join(lines) + "\n\n")
    return opens


def _entries(organisation_id: uuid.UUID) -> Iterable[JournalEntry]:
    return db.session.scalars(
        select(JournalEntry)
        .where(JournalEntry.organisation_id == organisation_id)
        .order_by(JournalEntry.entry_date, JournalEntry.created_at, JournalEntry.id)
        .execution_options(yield_per=PROGRESS_EVERY)
    )


def _transaction(entry: JournalEntry, books: _Books, totals: dict[tuple[str, str], int]) -> str:
    """The entry as a Beancount transaction; adds its postings to ``totals``."""
    tags = sorted({books.fund_tags[p.fund_id] for p in entry.postings if p.fund_id is not None})
    head = [
        f"{entry.entry_date} * {quote(entry.description)}",
        *(f"#{t}" for t in tags),
        entry_link(entry.id),
    ]
    lines = [" ".join(head)]
    lines += [f"  journal_entry: {quote(str(entry.id))}", f"  source: {quote(entry.source)}"]
    if entry.source_id is not None:
        lines.append(f"  source_id: {quote(entry.source_id)}")
    for posting in entry.postings:
        account = books.accounts[(entry.chart_version, posting.account_code)]
        sign = {Side.DEBIT.value: 1, Side.CREDIT.value: -1}[posting.side]
        amount = Money(posting.currency, sign * posting.amount_minor)
        totals[(account, posting.currency)] = totals.get((account, posting.currency), 0) + amount.minor
        lines.append(f"  {account}  {amount} {posting.currency}")
        if posting.fund_id is not None:
            reference = books.fund_references.get(posting.fund_id, str(posting.fund_id))
            lines.append(f"    fund: {quote(reference)}")
        if posting.restriction is not None:
            lines.append(f"    restriction: {quote(posting.restriction)}")
    return "\n".join(lines) + "\n\n"


def _balances(day: date, totals: dict[tuple[str, str], int]) -> str:
    """Balance assertions at the start of ``day`` for every account and currency used so far."""
    if not totals:
        return ""
    lines = [
        f"{day} balance {account}  {Money(currency, minor)} {currency}"
        for (account, currency), minor in sorted(totals.items())
    ]
    return "\n".join(lines) + "\n\n"


def entry_link(entry_id: uuid.UUID) -> str:
    """The link between a journal entry's transaction and its receipts."""
    return f"^entry-{entry_id}"


def _document(day: date, document: _Document) -> str:
    return (
        f"{day} document {document.account} {quote(document.relative_path)} {entry_link(document.entry_id)}\n"
        f"  expense_report: {quote(str(document.expense_report_id))}\n\n"
    )


def _write_receipts(
    organisation_id: uuid.UUID,
    directory: Path,
    name: str,
    accounts: dict[tuple[str, str], str],
    read_receipt: ReceiptReader,
    categories_of: CategoryLookup,
) -> dict[uuid.UUID, list[_Document]]:
    """Decrypt the receipts of approved reports into ``documents/<name>/``; journal entry -> documents."""
    reports = db.session.execute(
        select(ExpenseReport, Fund.category_list_version, JournalEntry)
        .join(Fund, Fund.id == ExpenseReport.fund_id)
        .join(JournalEntry, JournalEntry.id == ExpenseReport.journal_entry_id)
        .where(
            ExpenseReport.organisation_id == organisation_id,
            ExpenseReport.status == ReportStatus.APPROVED.value,
        )
        .order_by(JournalEntry.entry_date, ExpenseReport.id)
    ).all()
    categories: dict[str, Mapping[str, ExpenseCategory]] = {}
    written: dict[str, str] = {}
    seen: set[tuple[date, str, str]] = set()
    documents: dict[uuid.UUID, list[_Document]] = defaultdict(list)
    for report, list_version, entry in reports:
        if list_version not in categories:
            categories[list_version] = categories_of(list_version)
        for line in report.lines:
            if line.receipt_sha256 is None:
                continue
            if line.receipt_sha256 not in written:
                readable = f"{entry.entry_date}.{name}.report-{str(report.id)[:8]}.line-{line.number}"
                written[line.receipt_sha256] = _write_receipt(
                    read_receipt, line.receipt_sha256, directory, name, readable
                )
            code = categories[list_version][line.category_code].account_code
            document = _Document(
                accounts[(entry.chart_version, code)], written[line.receipt_sha256], report.id, entry.id
            )
            if (entry.entry_date, document.account, document.relative_path) not in seen:
                seen.add((entry.entry_date, document.account, document.relative_path))
                documents[entry.id].append(document)
    return documents


def _write_receipt(
    read_receipt: ReceiptReader, sha256: str, directory: Path, name: str, readable: str
) -> str:
    """Decrypt one receipt into the documents folder as ``readable``; its path relative to ``directory``."""
    receipt, data = read_receipt(sha256)
    relative = f"documents/{name}/{safe_name(readable)}.{_EXTENSIONS.get(receipt.media_type, 'bin')}"
    target = directory / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return relative
