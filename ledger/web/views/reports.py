"""Expense reports: filing line by line with receipts, submitting, and deciding; the queue."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from werkzeug.wrappers import Response

from ledger.business_dates import business_today
from ledger.database import persist_even_if_request_fails
from ledger.errors import LedgerError, ValidationFailed
from ledger.inputs.common import DatedReasonSchema
from ledger.inputs.expense_reports import CommentSchema, LineCreateSchema
from ledger.messages import translatable
from ledger.models.expense_report import ExpenseReport, ReceiptKind, ReportStatus
from ledger.services import (
    expense_checks,
    expense_decisions,
    expense_lines,
    expense_reports,
    fund_reports,
    funds,
    invoices,
    organisations,
    receipts,
    requirements,
    users,
)
from ledger.services.access import Permission, may
from ledger.services.actions import Action, available_actions, navigation
from ledger.services.amounts import parse_amount
from ledger.services.expense_lines import LineInput
from ledger.services.pagination import PageRequest
from ledger.web.forms import form_version, load_form
from ledger.web.i18n import money_minor
from ledger.web.session import current_web_actor, signed_in
from ledger.web.views import blueprint


def _line_inputs(report: ExpenseReport, currency: str) -> list[LineInput]:
    from ledger.money import Money

    return [
        LineInput(
            line.category_code,
            Money(currency, line.amount_minor),
            line.incurred_on,
            line.payee,
            line.description,
            line.receipt_sha256,
            receipt_kind=line.receipt_kind,
            invoice_code=line.invoice_code,
            invoice_number=line.invoice_number,
            invoice_date=line.invoice_date,
            invoice_amount=(
                Money(currency, line.invoice_amount_minor) if line.invoice_amount_minor is not None else None
            ),
            seller_name=line.seller_name,
            seller_taxpayer_id=line.seller_taxpayer_id,
        )
        for line in report.lines
    ]


def _field_labels() -> dict[str, str]:
    """The name a person sees for each field a problem may be about, in the reader's language."""
    return {
        "category_code": gettext("Category"),
        "amount": gettext("Amount"),
        "incurred_on": gettext("Date incurred"),
        "payee": gettext("Payee"),
        "description": gettext("Description"),
        "receipt": gettext("Receipt"),
        "receipt_sha256": gettext("Receipt"),
        "receipt_kind": gettext("Kind of receipt"),
        "invoice_code": gettext("Invoice code"),
        "invoice_number": gettext("Invoice number"),
        "invoice_date": gettext("Invoice date"),
        "invoice_amount": gettext("Invoice total"),
        "seller_name": gettext("Seller"),
        "seller_taxpayer_id": gettext("Seller's taxpayer id"),
        "comment": gettext("Comment"),
        "reason": gettext("Why it is voided"),
        "date": gettext("Date of the reversal"),
    }


def _problem_summary(problems: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Every problem once, for the list at the top: where it is (line and field), what, and a link."""
    labels = _field_labels()
    summary = []
    for key, messages in problems.items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) >= 2 and parts[1].isdigit():
            where = gettext("Line %(number)s", number=int(parts[1]) + 1)
            field = labels.get(parts[2]) if len(parts) > 2 else None
            label, anchor = (f"{where} · {field}" if field else where), "lines"
        else:
            label = labels.get(key)
            anchor = key if key in labels else "lines"
        summary += [{"label": label, "message": message, "anchor": anchor} for message in messages]
    return summary


def _line_problems(problems: dict[str, list[str]]) -> dict[int, list[dict[str, Any]]]:
    """Problems of the saved lines, by the line's index, each with its field's name."""
    labels = _field_labels()
    by_line: dict[int, list[dict[str, Any]]] = {}
    for key, messages in problems.items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) > 2 and parts[1].isdigit():
            label = labels.get(parts[2], "")
            by_line.setdefault(int(parts[1]), []).extend({"label": label, "message": m} for m in messages)
    return by_line


def _report_page(report_id: uuid.UUID, status: int = 200, **context: Any) -> tuple[str, int]:
    actor = current_web_actor()
    report = expense_reports.get_report(actor, report_id)
    fund = funds.get_fund(actor, report.fund_id)
    categories = funds.categories_of(fund.category_list_version)
    budgeted = funds.budget_of(fund)
    problems: dict[str, list[str]] = context.pop("problems", {})
    heading = context.pop("heading", None)
    if status == 200 and report.status in ("draft", "returned", "submitted") and report.lines:
        # What would stop the report at submission (or approval), shown where the button would be.
        problems = expense_checks.report_problems(report, fund)
        heading = gettext("Before this report can be approved, these need fixing:")
    form = context.pop("form", {})
    _fund, executions = fund_reports.budget_vs_actual(actor, fund.id)
    in_report: dict[str, int] = {}
    for line in report.lines:
        in_report[line.category_code] = in_report.get(line.category_code, 0) + line.amount_minor
    page = render_template(
        "web/report.html",
        report=report,
        organisation_name=organisations.get_organisation(actor, report.organisation_id).name,
        filed_by=users.names_of([report.filed_by]).get(report.filed_by, report.filed_by),
        category_budget=[
            {
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "in_report": in_report[c.category_code],
                "left": c.remaining.minor,
                "pending": c.pending.minor,
            }
            for c in executions
            if c.category_code in in_report
        ],
        actions=available_actions(actor, report),
        fund=fund,
        categories=[categories[code] for code in sorted(budgeted) if code in categories],
        category_names={code: c for code, c in categories.items()},
        problems=problems,
        summary=_problem_summary(problems),
        summary_heading=heading,
        line_problems=_line_problems(problems) if not form else {},
        total=money_minor(sum(line.amount_minor for line in report.lines), fund.currency),
        form=form,
        receipt_types=receipts.media_types(
            actor, [line.receipt_sha256 for line in report.lines if line.receipt_sha256]
        ),
        receipt_kinds=[kind.value for kind in ReceiptKind],
        # The finance officer sees each line's near-duplicates (another report named when visible).
        near_duplicates=(
            invoices.near_duplicates(actor, report)
            if may(actor, Permission.REVIEW_EXPENSE_REPORTS, report.organisation_id)
            else {}
        ),
        verifiable={
            line.number for line in report.lines if expense_lines.may_verify_invoice(actor, report, line)
        },
        verifiers=users.names_of(
            [line.invoice_verified_by for line in report.lines if line.invoice_verified_by]
        ),
        today=date.today().isoformat(),
        **context,
    )
    return page, status


@blueprint.get("/reports/<uuid:report_id>")
@signed_in
def report(report_id: uuid.UUID) -> tuple[str, int]:
    return _report_page(report_id)


@blueprint.post("/reports/<uuid:report_id>/lines")
@signed_in
def add_line(report_id: uuid.UUID) -> tuple[str, int] | Response:
    """Add one line (and its receipt): the report's lines are replaced by the old ones plus this."""
    actor = current_web_actor()
    report = expense_reports.get_report(actor, report_id)
    fund = funds.get_fund(actor, report.fund_id)
    form = request.form.to_dict()
    form["receipt_name"] = form.get("receipt_name", "")[:200]
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {}
    try:
        version = form_version("lines")
    except ValidationFailed as error:
        errors.update(error.errors)
    try:
        # A receipt uploaded with an earlier, refused try comes back as its SHA-256 (hidden field).
        data = load_form(LineCreateSchema())
        data["amount"] = parse_amount(data["amount"], fund.currency, "amount")
        if data.get("invoice_amount") is not None:
            data["invoice_amount"] = parse_amount(data["invoice_amount"], fund.currency, "invoice_amount")
    except ValidationFailed as error:
        errors.update(error.errors)
    upload = request.files.get("receipt")
    uploaded = False
    if upload is not None and upload.filename:
        try:
            content = upload.read()
        finally:
            upload.close()
        if invoices.looks_like_xml(content):
            # A digital invoice's XML fills in the line's invoice fields; the line is not saved yet.
            return _filled_from_xml(report_id, form, content)
        # Kept even if the line is refused, so that the person need not attach it again.
        try:
            form["receipt_sha256"] = receipts.upload_receipt(actor, report.organisation_id, content).sha256
            form["receipt_name"] = upload.filename[:200]
            uploaded = True
        except LedgerError as error:
            if error.status >= 500:
                raise
            errors["receipt"] = [m for messages in error.errors.values() for m in messages] or [error.detail]
    if errors:
        return _refused_line(report_id, errors, form, uploaded)
    data["receipt_sha256"] = form.get("receipt_sha256") or None
    line = LineInput(**data)
    number = len(report.lines) + 1
    try:
        expense_lines.set_lines(actor, report_id, [*_line_inputs(report, fund.currency), line], version)
    except ValidationFailed as error:
        # The service names the new line as lines.N.field: show it against the form's field.
        index = f"lines.{len(report.lines)}."
        named = {k.removeprefix(index): v for k, v in error.errors.items()}
        return _refused_line(report_id, named or {"lines": [error.detail]}, form, uploaded)
    flash(gettext("Line %(number)s is saved.", number=number))
    return redirect(url_for("web.report", report_id=report_id, _anchor="lines"))


def _filled_from_xml(report_id: uuid.UUID, form: dict[str, str], content: bytes) -> tuple[str, int]:
    """The form again with the invoice's fields filled in from its XML (what was typed is kept)."""
    try:
        parsed = invoices.read_invoice_xml(current_web_actor(), content, "receipt")
    except ValidationFailed as error:
        return _refused_line(report_id, error.errors, form, uploaded=False)
    found = {
        "receipt_kind": parsed.receipt_kind,
        "invoice_code": "",
        "invoice_number": parsed.invoice_number,
        "invoice_date": parsed.invoice_date.isoformat() if parsed.invoice_date else "",
        "invoice_amount": str(parsed.amount) if parsed.amount is not None else "",
        "seller_name": parsed.seller_name or "",
        "seller_taxpayer_id": parsed.seller_taxpayer_id or "",
    }
    form.update(found)
    # What a person would type from the invoice anyway, unless they already did.
    for name, value in (("payee", found["seller_name"]), ("amount", found["invoice_amount"])):
        if not form.get(name, "").strip():
            form[name] = value
    notice = gettext(
        "The invoice's fields are filled in from its XML. Check them, attach the receipt "
        "(PDF, JPEG or PNG) and add the line."
    )
    return _report_page(report_id, 200, form=form, notice=notice)


@blueprint.post("/reports/<uuid:report_id>/lines/<int:number>/invoice-verification")
@signed_in
def verify_invoice(report_id: uuid.UUID, number: int) -> Response:
    """A finance officer records a line's invoice as verified (the API's rules)."""
    expense_lines.verify_invoice(current_web_actor(), report_id, number)
    flash(gettext("The invoice of line %(number)s is recorded as verified.", number=number))
    return redirect(url_for("web.report", report_id=report_id, _anchor="lines"))


def _refused_line(
    report_id: uuid.UUID, problems: dict[str, list[str]], form: dict[str, str], uploaded: bool
) -> tuple[str, int]:
    """The page again with everything typed and the receipt attached, and what to fix."""
    if uploaded:
        # The receipt is stored (and recorded) although the line is not: the form refers to it.
        persist_even_if_request_fails()
    heading = gettext("The line is not saved yet. Please fix:")
    return _report_page(report_id, 422, problems=problems, form=form, heading=heading)


@blueprint.post("/reports/<uuid:report_id>/lines/<int:number>/remove")
@signed_in
def remove_line(report_id: uuid.UUID, number: int) -> Response:
    actor = current_web_actor()
    report = expense_reports.get_report(actor, report_id)
    fund = funds.get_fund(actor, report.fund_id)
    kept = [
        line
        for line, row in zip(_line_inputs(report, fund.currency), report.lines, strict=True)
        if row.number != number
    ]
    expense_lines.set_lines(actor, report_id, kept, form_version("report"))
    flash(gettext("Line %(number)s is removed.", number=number))
    return redirect(url_for("web.report", report_id=report_id, _anchor="lines"))


@blueprint.post("/reports/<uuid:report_id>/submit")
@signed_in
def submit_report(report_id: uuid.UUID) -> tuple[str, int] | Response:
    try:
        expense_decisions.submit_report(current_web_actor(), report_id, form_version("report"))
    except ValidationFailed as error:
        heading = gettext("The report is not submitted. Please fix these first:")
        return _report_page(
            report_id, 422, problems=error.errors or {"report": [error.detail]}, heading=heading
        )
    flash(gettext("The report is submitted. A finance officer will review it; the decision will show here."))
    return redirect(url_for("web.report", report_id=report_id))


@blueprint.post("/reports/<uuid:report_id>/decide")
@signed_in
def decide_report(report_id: uuid.UUID) -> tuple[str, int] | Response:
    """Approve, or return or reject with the comment the API's return and reject ask for."""
    actor = current_web_actor()
    decision = request.form.get("decision")
    try:
        version = form_version("decision")
        if decision == "approve":
            expense_decisions.approve_report(actor, report_id, version)
        elif decision in ("return", "reject"):
            comment = load_form(CommentSchema())["comment"]
            decide = (
                expense_decisions.return_report if decision == "return" else expense_decisions.reject_report
            )
            decide(actor, report_id, comment, version)
        else:
            raise ValidationFailed.field("decision", translatable("choose approve, return or reject"))
    except ValidationFailed as error:
        return _report_page(
            report_id, 422, problems=error.errors or {"decision": [error.detail]}, form=request.form.to_dict()
        )
    flash(_decision_done(decision))
    if Action.QUEUE in navigation(actor):
        return redirect(url_for("web.queue"))
    return redirect(url_for("web.report", report_id=report_id))


def _decision_done(decision: str) -> str:
    if decision == "approve":
        return str(gettext("The report is approved and booked."))
    if decision == "return":
        return str(gettext("The report is returned to its organisation with your comment."))
    return str(gettext("The report is rejected."))


@blueprint.post("/reports/<uuid:report_id>/void")
@signed_in
def void_report(report_id: uuid.UUID) -> tuple[str, int] | Response:
    """A finance officer voids an approved report (the API's rules: POST /expense-reports/<id>/void)."""
    try:
        version = form_version("report")
        data = load_form(DatedReasonSchema())
        expense_decisions.void_report(
            current_web_actor(), report_id, data["entry_date"], data["reason"], version
        )
    except ValidationFailed as error:
        return _report_page(
            report_id, 422, problems=error.errors or {"report": [error.detail]}, form=request.form.to_dict()
        )
    flash(gettext("The report is voided: its bookings are reversed."))
    return redirect(url_for("web.report", report_id=report_id))


@blueprint.get("/receipts/<sha256>")
@signed_in
def receipt(sha256: str) -> Response:
    """A receipt, shown in the page (images) or opened (PDF), to those allowed to see it."""
    found, data = receipts.read_receipt(current_web_actor(), sha256)
    response = Response(data, mimetype=found.media_type)
    response.headers["Content-Disposition"] = f'inline; filename="receipt-{found.sha256[:12]}"'
    # Shown framed in the officer's report page, and nowhere else; it can run nothing.
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src 'self'; frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.get("/queue")
@signed_in
def queue() -> str:
    actor = current_web_actor()
    fund_filter = request.args.get("fund") or None
    fund_id = uuid.UUID(fund_filter) if fund_filter and _is_uuid(fund_filter) else None
    waiting = expense_reports.list_reports(
        actor, PageRequest(1, 200), fund_id=fund_id, status=ReportStatus.SUBMITTED
    )
    all_funds = funds.list_funds(actor, PageRequest(1, 200)).items
    by_id = {f.id: f for f in all_funds}
    organisation_names = {
        organisation_id: organisations.get_organisation(actor, organisation_id).name
        for organisation_id in {r.organisation_id for r in waiting.items}
    }
    today = date.today()
    overdue = requirements.list_requirements(
        actor, business_today(), PageRequest(1, 50), state=requirements.RequirementState.OVERDUE
    )
    return render_template(
        "web/queue.html",
        overdue=[requirements.Stated(r, requirements.RequirementState.OVERDUE) for r in overdue.items],
        overdue_total=overdue.total,
        reports=waiting.items,
        organisation_names=organisation_names,
        ages={r.id: _age(today, r.submitted_at.date()) if r.submitted_at else "" for r in waiting.items},
        totals={r.id: sum(line.amount_minor for line in r.lines) for r in waiting.items},
        total=waiting.total,
        funds=all_funds,
        by_id=by_id,
        fund_filter=fund_filter or "",
    )


def _age(today: date, day: date) -> str:
    """How long ago, in words: "today", "3 days ago"."""
    days = (today - day).days
    if days <= 0:
        return str(gettext("today"))
    return str(ngettext("%(num)s day ago", "%(num)s days ago", days))


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
