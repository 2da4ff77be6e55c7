"""The coverage page: a node of the tree on a date, its children as a table and a bar chart, and the
same figures as a spreadsheet. Figures come from ``services/coverage.py``; this view lays out the chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from flask import Response, render_template, request, url_for
from flask_babel import gettext

from ledger.errors import ValidationFailed
from ledger.inputs.coverage import CoverageQuerySchema
from ledger.services import coverage as service
from ledger.services import spreadsheets
from ledger.web.forms import load_form
from ledger.web.i18n import language
from ledger.web.session import current_web_actor, signed_in
from ledger.web.views import blueprint
from ledger.web.views.spreadsheets import spreadsheet_response

# The chart's drawing, in SVG user units; the SVG scales to the page's width.
CHART_WIDTH: Final = 640
LABEL_WIDTH: Final = 170
FIGURE_WIDTH: Final = 140
BAR_HEIGHT: Final = 22
ROW_HEIGHT: Final = 32
TOP: Final = 8


@dataclass(frozen=True)
class ChartBar:
    """One row of the chart: a label, the filled part (met / organisations), the rest, and a caption."""

    label: str
    href: str | None
    y: int
    filled: float
    rest: float
    target_x: float | None
    caption: str
    met: bool


def _bars_width() -> int:
    return CHART_WIDTH - LABEL_WIDTH - FIGURE_WIDTH


def _node_chart(figures: service.Coverage, query: dict[str, Any]) -> list[ChartBar]:
    """Per child: its communities meeting the target (filled) and not (the rest), on one scale."""
    widest = max((child.communities for child in figures.children), default=0) or 1
    unit = _bars_width() / widest
    return [
        ChartBar(
            label=child.name,
            href=url_for("web.coverage", **{**query, "node": child.code}),
            y=TOP + index * ROW_HEIGHT,
            filled=round(child.communities_met * unit, 1),
            rest=round((child.communities - child.communities_met) * unit, 1),
            target_x=None,
            caption=f"{child.communities_met}/{child.communities} · {child.percent_met}%",
            met=child.communities_met == child.communities,
        )
        for index, child in enumerate(figures.children)
    ]


def _community_chart(figures: service.Coverage) -> list[ChartBar]:
    """Per community: its organisations (filled) against its target (a mark), on one scale."""
    widest = max((max(c.organisations, c.target) for c in figures.communities), default=0) or 1
    unit = _bars_width() / widest
    return [
        ChartBar(
            label=community.name,
            href=None,
            y=TOP + index * ROW_HEIGHT,
            filled=round(community.organisations * unit, 1),
            rest=round(max(community.target - community.organisations, 0) * unit, 1),
            target_x=round(LABEL_WIDTH + community.target * unit, 1),
            caption=f"{community.organisations}/{community.target}",
            met=community.met,
        )
        for index, community in enumerate(figures.communities)
    ]


def _kind_names() -> dict[str, str]:
    return {
        "social_group": gettext("social groups"),
        "social_service_organisation": gettext("social service organisations"),
        "foundation": gettext("foundations"),
        "life_services": gettext("life services (filed)"),
        "charity": gettext("charity (filed)"),
        "culture_sports": gettext("culture and sports (filed)"),
        "mediation": gettext("mediation (filed)"),
        "other": gettext("other"),
    }


def _level_names() -> dict[str | None, str]:
    return {
        None: gettext("Whole area"),
        "province": gettext("Provinces"),
        "city": gettext("Cities"),
        "county": gettext("Districts and counties"),
        "township": gettext("Streets and townships"),
        "community": gettext("Communities"),
    }


def _query(node: str | None, as_of: date | None) -> dict[str, Any]:
    """The page's own query string: only what the reader chose."""
    chosen = {"node": node, "as_of": as_of.isoformat() if as_of else None}
    return {key: value for key, value in chosen.items() if value}


@blueprint.get("/coverage")
@signed_in
def coverage() -> str:
    actor = current_web_actor()
    problems: dict[str, list[str]] = {}
    try:
        chosen = load_form(CoverageQuerySchema(), form=request.args)
        figures = service.coverage(actor, chosen.get("node"), chosen.get("as_of"))
    except ValidationFailed as refused:
        if not set(refused.errors) <= {"as_of"}:
            raise
        # A date that is not one, or is still to come: the figures of today, and why.
        problems = {key: list(value) for key, value in refused.errors.items()}
        chosen = {"node": request.args.get("node") or None}
        figures = service.coverage(actor, chosen["node"], None)
    query = _query(figures.node.code if chosen.get("node") else None, chosen.get("as_of"))
    at_communities = figures.children_level == "community"
    bars = _community_chart(figures) if at_communities else _node_chart(figures, query)
    names = _level_names()
    return render_template(
        "web/coverage.html",
        figures=figures,
        problems=problems,
        as_of_text=request.args.get("as_of", "") if problems else figures.as_of.isoformat(),
        at_communities=at_communities,
        crumbs=[
            {
                "name": crumb.name or names[None],
                "href": url_for("web.coverage", **_query(crumb.code, chosen.get("as_of"))),
            }
            for crumb in figures.path
        ],
        children_title=names.get(figures.children_level, figures.children_level),
        # Each community's organisations by kind, the kinds it has only: nine columns of mostly
        # zeros would not fit a page.
        kinds_of={
            c.id: [(label, c.by_kind[kind]) for kind, label in _kind_names().items() if c.by_kind.get(kind)]
            for c in figures.communities
        },
        chart={
            "bars": bars,
            "kind": "communities" if at_communities else "areas",
            "width": CHART_WIDTH,
            "height": TOP * 2 + ROW_HEIGHT * max(len(bars), 1),
            "label_width": LABEL_WIDTH,
            "bar_height": BAR_HEIGHT,
            "figure_x": CHART_WIDTH - FIGURE_WIDTH + 8,
        },
        xlsx_href=url_for("web.coverage_xlsx", **query),
        node_code=figures.node.code if chosen.get("node") else "",
    )


@blueprint.post("/coverage.xlsx")
@signed_in
def coverage_xlsx() -> Response:
    chosen = load_form(CoverageQuerySchema(), form=request.args)
    made = spreadsheets.coverage_download(
        current_web_actor(), chosen.get("node"), chosen.get("as_of"), language()
    )
    return spreadsheet_response(made)
