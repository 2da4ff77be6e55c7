"""Coverage: how many community social organisations each community has against its target, rolled
up the administrative tree (street, district, city, province), on a date.

One definition of each figure, used by the API, the page, the spreadsheet and the older
per-community list (``/api/v1/communities/coverage``):

- the organisations *counted* on a date: :func:`counted_organisations` (the only place that says
  which organisations count, with their standing and kind);
- a community's target: 10 urban, 5 rural (``ORGANISATION_TARGETS``); it *meets* it when it has at
  least that many counted organisations;
- a node's *share* of communities meeting their target: :func:`share` (a fraction rounded once, to
  three places, ROUND_HALF_UP, so that the percentage shown has one decimal and every output shows
  the same one);
- a node's organisations *per community*: :func:`per_community` (two places, ROUND_HALF_UP).

Every community entered in the ledger is in the denominator whatever the date (a community is a
place that was there before it was entered); only the organisations are counted as of the date.
Counting is two grouped queries over the subtree (communities, and counted organisations by
community, standing and kind) and one for the divisions above them; the roll-up is done here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from sqlalchemy import Select, case, func, select

from ledger import vocabulary
from ledger.business_dates import business_today
from ledger.errors import ValidationFailed
from ledger.exports.spreadsheet import INTEGER, TEXT, Column, Table
from ledger.extensions import db
from ledger.messages import Message, translatable
from ledger.models.community import ORGANISATION_TARGETS, Community, CommunityKind
from ledger.models.organisation import (
    ACTIVE_STATUSES,
    FilingCategory,
    Organisation,
    OrganisationStatus,
    RegistrationType,
)
from ledger.models.region import Division, DivisionLevel, level_of
from ledger.models.user import Role
from ledger.services import tree
from ledger.services.access import Actor, Permission, authorize, authorize_at
from ledger.services.organisation_status import statuses_on
from ledger.services.pagination import Page, PageRequest

# The standings an organisation counted on a date has: registered with civil affairs (登记) or
# filed with the street office / township (备案).
STANDINGS: Final = ("registered", "filed")
# The kinds organisations are counted by, in the order the page and the spreadsheet show them: a
# registered organisation by its registration type, a filed one by its filing category ("other"
# is one column for both).
KINDS: Final = (
    *(t.value for t in RegistrationType if t is not RegistrationType.OTHER),
    *(c.value for c in FilingCategory if c is not FilingCategory.OTHER),
    "other",
)

SHARE_PLACES: Final = Decimal("0.001")
PER_COMMUNITY_PLACES: Final = Decimal("0.01")
_CHUNK: Final = 500


def counted_organisations(as_of: date) -> Select[uuid.UUID, uuid.UUID, str, str]:
    """The organisations counted on ``as_of``: the one definition every coverage figure counts from.

    Columns ``organisation_id``, ``community_id``, ``standing`` ('registered' or 'filed') and
    ``kind``. An organisation counts while it is active on the date by its status history
    (``organisation_status.statuses_on``: filed or registered, not yet deregistered), with the
    standing it had then; its kind is its registration type once registered, its filing category
    while filed.
    """
    status = statuses_on(as_of)
    return (
        select(
            Organisation.id.label("organisation_id"),
            Organisation.community_id.label("community_id"),
            status.c.status.label("standing"),
            case(
                (status.c.status == OrganisationStatus.FILED.value, Organisation.filing_category),
                else_=Organisation.registration_type,
            ).label("kind"),
        )
        .join(status, status.c.organisation_id == Organisation.id)
        .where(status.c.status.in_([s.value for s in ACTIVE_STATUSES]))
    )


def share(part: int, whole: int) -> Decimal:
    """``part`` of ``whole`` as a fraction rounded to three places, half up (0 when ``whole`` is 0).

    Shown as a percentage with one decimal: 1 of 6 is 0.167, 16.7%.
    """
    if whole == 0:
        return Decimal("0.000")
    return (Decimal(part) / Decimal(whole)).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


def percentage(fraction: Decimal) -> Decimal:
    """A :func:`share` as a percentage with one decimal (0.167 is 16.7): no second rounding."""
    return (fraction * 100).quantize(Decimal("0.1"))


def per_community(organisations: int, communities: int) -> Decimal:
    """Organisations per community, two places, half up (0.00 when there are no communities)."""
    if communities == 0:
        return Decimal("0.00")
    return (Decimal(organisations) / Decimal(communities)).quantize(
        PER_COMMUNITY_PLACES, rounding=ROUND_HALF_UP
    )


@dataclass
class Tally:
    """Counted organisations, in total, by standing and by kind."""

    organisations: int = 0
    by_standing: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STANDINGS, 0))
    by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def add(self, standing: str, kind: str, count: int) -> None:
        self.organisations += count
        self.by_standing[standing] = self.by_standing.get(standing, 0) + count
        self.by_kind[kind] = self.by_kind.get(kind, 0) + count

    def absorb(self, other: Tally) -> None:
        self.organisations += other.organisations
        for standing, count in other.by_standing.items():
            self.by_standing[standing] = self.by_standing.get(standing, 0) + count
        for kind, count in other.by_kind.items():
            self.by_kind[kind] = self.by_kind.get(kind, 0) + count

    @property
    def registered(self) -> int:
        return self.by_standing.get("registered", 0)

    @property
    def filed(self) -> int:
        return self.by_standing.get("filed", 0)


class _Counted:
    """What a community and a node both show of their ``tally``."""

    tally: Tally

    @property
    def organisations(self) -> int:
        return self.tally.organisations

    @property
    def registered(self) -> int:
        return self.tally.registered

    @property
    def filed(self) -> int:
        return self.tally.filed

    @property
    def by_kind(self) -> dict[str, int]:
        return self.tally.by_kind


@dataclass(frozen=True)
class CommunityFigures(_Counted):
    """One community on the date: its counted organisations against its target."""

    id: uuid.UUID
    code: str
    name: str
    kind: str
    tally: Tally

    @property
    def target(self) -> int:
        return ORGANISATION_TARGETS[CommunityKind(self.kind)]

    @property
    def met(self) -> bool:
        return self.organisations >= self.target


@dataclass
class NodeFigures(_Counted):
    """A node of the tree (None: the whole of the reader's area) rolled up from its communities."""

    code: str | None
    name: str
    level: str | None
    communities: int = 0
    communities_met: int = 0
    tally: Tally = field(default_factory=Tally)

    def add(self, community: CommunityFigures) -> None:
        self.communities += 1
        self.communities_met += int(community.met)
        self.tally.absorb(community.tally)

    @property
    def share_met(self) -> Decimal:
        return share(self.communities_met, self.communities)

    @property
    def percent_met(self) -> Decimal:
        return percentage(self.share_met)

    @property
    def organisations_per_community(self) -> Decimal:
        return per_community(self.organisations, self.communities)


@dataclass(frozen=True)
class Crumb:
    """One step of the way from the reader's top node down to the node shown."""

    code: str | None
    name: str
    level: str | None


@dataclass(frozen=True)
class Coverage:
    """A node on a date: its figures, the way down to it, and its children's figures.

    ``children`` are the divisions one level down that hold communities; below a street (or
    township) the rows are its ``communities`` instead, and ``children`` is empty.
    """

    as_of: date
    node: NodeFigures
    path: list[Crumb]
    children_level: str
    children: list[NodeFigures]
    communities: list[CommunityFigures]


def checked_as_of(as_of: date | None) -> date:
    """The date figures are counted on: today (in China) when not given; never a future date."""
    today = business_today()
    if as_of is None:
        return today
    if as_of > today:
        raise ValidationFailed.field("as_of", translatable("must not be in the future"))
    return as_of


def _tops(actor: Actor) -> list[str | None]:
    """The nodes the actor's view starts at: [None] for the whole deployment, else their scopes."""
    if actor.role is Role.ORG_MEMBER or actor.reaches_everything:
        return [None]  # communities and their coverage are public to organisation members
    return list(sorted(scope for scope in actor.scopes if scope is not None))


def coverage(actor: Actor, node: str | None, as_of: date | None) -> Coverage:
    """Coverage of ``node`` (None: the top of the actor's area) on ``as_of`` (None: today)."""
    authorize(actor, Permission.READ_COMMUNITIES)
    day = checked_as_of(as_of)
    tops = _tops(actor)
    division: Division | None = None
    if node is None and len(tops) == 1:
        node = tops[0]
    if node is not None:
        division = tree.find_node("node", node)
        if actor.role is not Role.ORG_MEMBER:
            authorize_at(actor, Permission.READ_COMMUNITIES, node)
    area: list[str | None] = [node] if node is not None else tops
    communities = _communities_within(area, day)
    crumbs = _path(tops, division)
    top = NodeFigures(node, crumbs[-1].name, crumbs[-1].level)
    rows_are_communities = node is not None and level_of(node) in (
        DivisionLevel.TOWNSHIP,
        DivisionLevel.COMMUNITY,
    )
    parents = {} if rows_are_communities else _divisions_above(communities)
    children: dict[str, NodeFigures] = {}
    for placed in communities:
        top.add(placed.figures)
        if not rows_are_communities:
            child = _child_of(placed, node, tops, parents)
            row = children.setdefault(child, NodeFigures(child, "", level_of(child).value))
            row.add(placed.figures)
    names = tree.node_names(children)
    for code, row in children.items():
        row.name = names.get(code, code)
    if rows_are_communities:
        child_level = DivisionLevel.COMMUNITY.value
    else:  # a level the list leaves out (a city without districts) is skipped
        levels = [DivisionLevel(row.level) for row in children.values() if row.level]
        child_level = min(levels, key=list(DivisionLevel).index).value if levels else _level_below(node)
    return Coverage(
        as_of=day,
        node=top,
        path=crumbs,
        children_level=child_level,
        children=[children[code] for code in sorted(children)],
        communities=[placed.figures for placed in communities] if rows_are_communities else [],
    )


def _level_below(node: str | None) -> str:
    order = list(DivisionLevel)
    if node is None:
        return DivisionLevel.PROVINCE.value
    return order[min(order.index(level_of(node)) + 1, len(order) - 1)].value


def _path(tops: list[str | None], division: Division | None) -> list[Crumb]:
    """The crumbs from the actor's top (the whole deployment, or the scope above ``division``) down."""
    whole = [Crumb(None, "", None)]
    if division is None:
        return whole
    path = [Crumb(d.code, d.name, d.level) for d in tree.path_of(division.code, division.list_version)]
    if None in tops:
        return whole + path
    start = next((i for i, crumb in enumerate(path) if crumb.code in tops), 0)
    return (whole if len(tops) > 1 else []) + path[start:]


@dataclass(frozen=True)
class _Placed:
    """A community's figures with where it sits: its division list and its parent's code."""

    figures: CommunityFigures
    version: str
    parent: str | None


def _child_of(
    placed: _Placed,
    node: str | None,
    tops: list[str | None],
    parents: Mapping[tuple[str, str], str | None],
) -> str:
    """The division one level below ``node`` (or the actor's top) on the way up from a community."""
    chain = [placed.figures.code]
    current = placed.parent
    while current is not None:
        chain.append(current)
        current = parents.get((placed.version, current))
    if node is not None:
        index = chain.index(node) if node in chain else 0
        return chain[index - 1] if index > 0 else placed.figures.code
    if None in tops:
        return chain[-1]
    return next((c for c in chain if c in tops), chain[-1])


def _communities_within(area: list[str | None], day: date) -> list[_Placed]:
    """Every community in ``area`` with its counted organisations on ``day``, in code order."""
    rows = db.session.execute(
        select(
            Community.id,
            Community.code,
            Community.name,
            Community.kind,
            Community.division_list,
            Division.parent_code,
        )
        .outerjoin(
            Division,
            (Division.list_version == Community.division_list) & (Division.code == Community.code),
        )
        .where(tree.within(Community.code, area))
        .order_by(Community.code)
    ).all()
    counted = counted_organisations(day).subquery()
    tallies: dict[uuid.UUID, Tally] = {}
    grouped = db.session.execute(
        select(counted.c.community_id, counted.c.standing, counted.c.kind, func.count())
        .join(Community, Community.id == counted.c.community_id)
        .where(tree.within(Community.code, area))
        .group_by(counted.c.community_id, counted.c.standing, counted.c.kind)
    )
    for community_id, standing, kind, count in grouped:
        tallies.setdefault(community_id, Tally()).add(standing, kind, int(count))
    return [
        _Placed(CommunityFigures(id_, code, name, kind, tallies.get(id_, Tally())), version, parent)
        for id_, code, name, kind, version, parent in rows
    ]


def _divisions_above(communities: list[_Placed]) -> dict[tuple[str, str], str | None]:
    """The parent of every division above the communities, keyed by (list version, code)."""
    wanted: dict[str, set[str]] = {}
    for placed in communities:
        code = placed.figures.code
        wanted.setdefault(placed.version, set()).update(code[:n].ljust(12, "0") for n in (2, 4, 6, 9))
    parents: dict[tuple[str, str], str | None] = {}
    for version, codes in wanted.items():
        ordered = sorted(codes)
        for start in range(0, len(ordered), _CHUNK):
            rows = db.session.execute(
                select(Division.code, Division.parent_code).where(
                    Division.list_version == version, Division.code.in_(ordered[start : start + _CHUNK])
                )
            )
            parents.update({(version, code): parent for code, parent in rows})
    return parents


@dataclass(frozen=True)
class CommunityCoverage:
    """One community in the per-community list: its counted organisations against its target."""

    community: Community
    organisation_count: int

    @property
    def target(self) -> int:
        return self.community.organisation_target

    @property
    def meets_target(self) -> bool:
        return self.organisation_count >= self.target


def community_coverage(
    actor: Actor, request: PageRequest, as_of: date | None = None
) -> Page[CommunityCoverage]:
    """Each community of the actor's area with its organisations counted on ``as_of`` (today), a page."""
    authorize(actor, Permission.READ_COMMUNITIES)
    counted = counted_organisations(checked_as_of(as_of)).subquery()
    counts = (
        select(counted.c.community_id, func.count().label("n")).group_by(counted.c.community_id).subquery()
    )
    statement = (
        select(Community, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.community_id == Community.id)
        .where(tree.within(Community.code, _tops(actor)))
        .order_by(Community.code)
    )
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = db.session.execute(statement.limit(request.page_size).offset(request.offset)).all()
    return Page(items=[CommunityCoverage(c, int(n)) for c, n in rows], total=total)


# --- The spreadsheet: the node's children, one sheet (ledger.services.spreadsheets writes it) -----

LEVEL_NAMES: Final[dict[str, Message]] = {
    DivisionLevel.PROVINCE.value: translatable("Provinces"),
    DivisionLevel.CITY.value: translatable("Cities"),
    DivisionLevel.COUNTY.value: translatable("Districts and counties"),
    DivisionLevel.TOWNSHIP.value: translatable("Streets and townships"),
    DivisionLevel.COMMUNITY.value: translatable("Communities"),
}
WHOLE_AREA: Final = translatable("Whole area")


def _kind_columns() -> list[Column]:
    """A column per kind, named with the words for registration types and filing categories."""
    words = {**vocabulary.REGISTRATION_TYPE, **vocabulary.FILING_CATEGORY}
    return [Column(words.get(kind, kind), INTEGER, 12) for kind in KINDS]


def _yes(value: bool) -> Message:
    return translatable("yes") if value else translatable("no")


def coverage_table(figures: Coverage) -> Table:
    """The node's children (or, below a street, its communities) as a spreadsheet table
    (its words are written in the workbook's language)."""
    name = figures.node.name or WHOLE_AREA
    on = figures.as_of.isoformat()
    title = translatable("%(area)s: community organisation coverage on %(date)s", area=name, date=on)
    level = figures.children_level
    sheet = translatable("%(level)s on %(date)s", level=LEVEL_NAMES.get(level, level), date=on)
    rows: list[list[object]]
    if figures.children_level == DivisionLevel.COMMUNITY.value:
        columns = [
            Column(translatable("Name"), TEXT, 22),
            Column(translatable("Division code"), TEXT, 15),
            Column(translatable("Community kind"), TEXT, 10),
            Column(translatable("Number of organisations"), INTEGER, 9),
            Column(translatable("Registered"), INTEGER, 8),
            Column(translatable("Filed"), INTEGER, 8),
            *_kind_columns(),
            Column(translatable("Target"), INTEGER, 8),
            Column(translatable("Met"), TEXT, 9),
        ]
        rows = [
            [
                c.name,
                c.code,
                vocabulary.COMMUNITY_KIND.get(c.kind, c.kind),
                c.organisations,
                c.registered,
                c.filed,
                *(c.by_kind.get(kind, 0) for kind in KINDS),
                c.target,
                _yes(c.met),
            ]
            for c in figures.communities
        ]
    else:
        columns = [
            Column(translatable("Name"), TEXT, 22),
            Column(translatable("Division code"), TEXT, 15),
            Column(translatable("Number of communities"), INTEGER, 9),
            Column(translatable("Communities meeting the target"), INTEGER, 11),
            Column(translatable("Share"), "0.0%", 9),
            Column(translatable("Number of organisations"), INTEGER, 9),
            Column(translatable("Organisations per community"), "0.00", 13),
            Column(translatable("Registered"), INTEGER, 8),
            Column(translatable("Filed"), INTEGER, 8),
            *_kind_columns(),
        ]
        rows = [
            [
                n.name,
                n.code,
                n.communities,
                n.communities_met,
                n.share_met,
                n.organisations,
                n.organisations_per_community,
                n.registered,
                n.filed,
                *(n.by_kind.get(kind, 0) for kind in KINDS),
            ]
            for n in figures.children
        ]
    return Table(sheet_name=sheet, title=title, columns=columns, rows=rows)
