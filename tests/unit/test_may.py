"""``may`` answers what ``authorize`` enforces, without raising; separation of duties, asked."""

from __future__ import annotations

import itertools
import uuid

import pytest

from ledger.errors import Forbidden
from ledger.models.user import Role
from ledger.services.access import (
    POLICY,
    Actor,
    Permission,
    authorize,
    is_different_person,
    may,
    require_different_person,
)

OURS, THEIRS = uuid.uuid4(), uuid.uuid4()


def _actor(role: Role, *organisations: uuid.UUID) -> Actor:
    return Actor(uuid.uuid4(), f"someone-{role.value}", role, frozenset(organisations))


@pytest.mark.parametrize("role", list(Role))
def test_may_follows_the_policy_for_every_role_and_permission(role: Role) -> None:
    actor = _actor(role, OURS)
    for permission in Permission:
        assert may(actor, permission) is (role in POLICY[permission]), permission


def test_an_organisation_member_may_act_only_on_their_own_organisations() -> None:
    member = _actor(Role.ORG_MEMBER, OURS)
    assert may(member, Permission.FILE_EXPENSE_REPORTS, OURS)
    assert not may(member, Permission.FILE_EXPENSE_REPORTS, THEIRS)
    assert may(member, Permission.FILE_EXPENSE_REPORTS)  # no organisation named: the role decides
    assert not may(member, Permission.REVIEW_EXPENSE_REPORTS, OURS)  # not the role's, even at home
    assert not may(_actor(Role.ORG_MEMBER), Permission.READ_FUNDS, OURS)  # a member of nothing


def test_roles_not_scoped_to_organisations_reach_every_organisation() -> None:
    officer = _actor(Role.FINANCE_OFFICER)
    assert may(officer, Permission.MANAGE_DISBURSEMENTS, OURS)
    assert may(officer, Permission.MANAGE_DISBURSEMENTS, THEIRS)
    assert not may(officer, Permission.MANAGE_FUNDS, OURS)
    assert may(Actor.operator(), Permission.MANAGE_SIGNING_KEYS)


def test_authorize_raises_exactly_when_may_is_false() -> None:
    for role, permission, organisation in itertools.product(Role, Permission, (None, OURS, THEIRS)):
        actor = _actor(role, OURS)
        if may(actor, permission, organisation):
            authorize(actor, permission, organisation)
        else:
            with pytest.raises(Forbidden):
                authorize(actor, permission, organisation)


def test_authorize_says_whether_the_role_or_the_organisation_is_wrong() -> None:
    with pytest.raises(Forbidden, match="role may not"):
        authorize(_actor(Role.AUDITOR), Permission.MANAGE_DISBURSEMENTS)
    with pytest.raises(Forbidden, match="not a member"):
        authorize(_actor(Role.ORG_MEMBER, OURS), Permission.FILE_EXPENSE_REPORTS, THEIRS)


def test_separation_of_duties_asked_and_enforced() -> None:
    preparer, other = _actor(Role.FINANCE_OFFICER), _actor(Role.FINANCE_OFFICER)
    recorded = [preparer.audit_identity["id"], None]
    assert not is_different_person(preparer, recorded)
    assert is_different_person(other, recorded)
    assert is_different_person(Actor.operator(), ["operator"])  # the command line is nobody's second person
    with pytest.raises(Forbidden, match="yourself"):
        require_different_person(preparer, recorded, "approve a disbursement")
    require_different_person(other, recorded, "approve a disbursement")
