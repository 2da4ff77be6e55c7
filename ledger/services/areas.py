"""The administrative tree as the pages show it to a person: their area, and the nodes they may pick.

``tree.py`` answers questions of the tree itself; this module answers them for one actor: where
they work (the header names it), which nodes an admin may grant a staff member, which community
divisions of their area have no community yet (the community form offers them), and the street
and district each community sits in. It reads only; what a person may change is still checked
by the services that change it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Final

from sqlalchemy import select

from ledger.extensions import db
from ledger.models.community import Community
from ledger.models.organisation import Organisation
from ledger.models.region import Division, DivisionLevel, DivisionList, level_of
from ledger.models.user import Role, User
from ledger.services import tree
from ledger.services.access import Actor

# A page offers at most this many nodes or communities in one list; beyond it, the code is typed.
LIST_LIMIT: Final = 300

_LEVELS: Final = [
    DivisionLevel.PROVINCE,
    DivisionLevel.CITY,
    DivisionLevel.COUNTY,
    DivisionLevel.TOWNSHIP,
]
_DEPTH: Final = {level: depth for depth, level in enumerate(DivisionLevel)}


@dataclass(frozen=True)
class Place:
    """Where a person works or belongs: a node's or an organisation's name (None: everywhere)."""

    name: str | None


@dataclass(frozen=True)
class Node:
    """A node of the tree as a list shows it: code, name and depth (0 for a province)."""

    code: str
    name: str
    depth: int

    @property
    def indented(self) -> str:
        """The name indented by its depth, so a list of nodes in code order reads as a tree."""
        return "\u3000" * self.depth + self.name


@dataclass(frozen=True)
class Street:
    """A township-level node (街道 / 镇 / 乡) and the free community divisions under it."""

    code: str | None
    name: str
    communities: tuple[Node, ...]


@dataclass(frozen=True)
class FreeCommunities:
    """The community divisions of an area that have no community yet, by street.

    ``complete`` is false when there are more than a list can hold: the page asks for the code.
    """

    streets: tuple[Street, ...]
    complete: bool


@dataclass(frozen=True)
class CommunityPlace:
    street: str
    district: str


def places_of(actor: Actor) -> list[Place]:
    """Where ``actor`` works: their nodes' names, or for a member their organisations' names."""
    if actor.role is Role.ORG_MEMBER:
        organisation_names = db.session.scalars(
            select(Organisation.name)
            .where(Organisation.id.in_(actor.organisation_ids))
            .order_by(Organisation.name)
        )
        return [Place(name) for name in organisation_names]
    if actor.reaches_everything:
        return [Place(None)]
    names = tree.node_names(actor.scopes)
    return [Place(names.get(code) or code) for code in actor.scopes]


def place_of_node(code: str | None) -> Place:
    """A node as a place (None: the whole deployment), named as the latest list holding it."""
    if code is None:
        return Place(None)
    return Place(tree.node_names([code]).get(code) or code)


def places_of_user(user: User) -> list[Place]:
    """Where ``user`` works (their nodes) or belongs (their organisations), as ``places_of``."""
    if Role(user.role) is Role.ORG_MEMBER:
        return [Place(membership.organisation.name) for membership in user.memberships]
    names = tree.node_names(user.scope_codes)
    return [Place(names.get(code) or code) if code else Place(None) for code in user.scope_codes]


def _latest(statement_rows: Iterable[Division]) -> dict[str, Division]:
    """Each code once, as the latest list holding it gives it (rows come in list order)."""
    latest: dict[str, Division] = {}
    for division in statement_rows:
        latest[division.code] = division
    return latest


def _divisions(actor: Actor, levels: Iterable[DivisionLevel]) -> dict[str, Division]:
    statement = (
        select(Division)
        .join(DivisionList)
        .where(Division.level.in_([level.value for level in levels]))
        .where(tree.within(Division.code, actor.scopes))
        .order_by(DivisionList.year, DivisionList.version)
    )
    return _latest(db.session.scalars(statement))


def grantable_nodes(actor: Actor, held: Iterable[str | None] = ()) -> list[Node]:
    """The nodes (province to township) of ``actor``'s area an admin may grant, in tree order.

    Levels are taken from the top down while the list stays short: a street's admin sees their
    street, a city's admin the city, its districts and, when few enough, their streets. Nodes in
    ``held`` (what the people listed already hold) are listed too, so a page can show them.
    """
    chosen: dict[str, Division] = {}
    for depth in range(len(_LEVELS)):
        found = _divisions(actor, _LEVELS[: depth + 1])
        if chosen and len(found) > LIST_LIMIT:
            break
        chosen = found
    extra = {code for code in held if code is not None and code not in chosen}
    names = tree.node_names(extra)
    nodes = {code: Node(code, d.name, _DEPTH[DivisionLevel(d.level)]) for code, d in chosen.items()}
    for code in extra:
        if code in names:
            nodes[code] = Node(code, names[code], _DEPTH[level_of(code)])
    top = min((node.depth for node in nodes.values()), default=0)
    return [replace(nodes[code], depth=nodes[code].depth - top) for code in sorted(nodes)]


def free_communities(actor: Actor) -> FreeCommunities:
    """The community divisions of ``actor``'s area without a community, grouped by street."""
    found = _divisions(actor, [DivisionLevel.COMMUNITY])
    taken = set(db.session.scalars(select(Community.code).where(Community.code.in_(list(found)))))
    free = [found[code] for code in sorted(found) if code not in taken]
    complete = len(free) <= LIST_LIMIT
    free = free[:LIST_LIMIT] if complete else []
    names = tree.node_names({d.parent_code for d in free})
    streets: dict[str | None, list[Node]] = {}
    for division in free:
        streets.setdefault(division.parent_code, []).append(
            Node(division.code, division.name, _DEPTH[DivisionLevel.COMMUNITY])
        )
    return FreeCommunities(
        tuple(
            Street(parent, names.get(parent) or parent or "", tuple(nodes))
            for parent, nodes in streets.items()
        ),
        complete,
    )


def community_places(communities: Iterable[Community]) -> dict[uuid.UUID, CommunityPlace]:
    """Each community's street and district, as its own division list names them."""
    communities = list(communities)
    wanted: set[tuple[str, str]] = set()
    for community in communities:
        wanted |= {(community.division_list, code) for code in _street_and_district(community.code)}
    names: dict[tuple[str, str], str] = {}
    versions = {version for version, _ in wanted}
    codes = {code for _, code in wanted}
    if wanted:
        rows = db.session.execute(
            select(Division.list_version, Division.code, Division.name).where(
                Division.list_version.in_(versions), Division.code.in_(codes)
            )
        )
        names = {(version, code): name for version, code, name in rows}
    places = {}
    for community in communities:
        street, district = _street_and_district(community.code)
        places[community.id] = CommunityPlace(
            names.get((community.division_list, street), ""),
            names.get((community.division_list, district), ""),
        )
    return places


def _street_and_district(code: str) -> tuple[str, str]:
    """The codes of the township and county a community's code lies under."""
    return code[:9] + "000", code[:6] + "000000"
