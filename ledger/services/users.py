"""Users, their role, where they hold it (organisations or nodes of the tree), and their passwords.

Staff hold their role at one or more nodes of the administrative tree; an admin grants only
nodes inside their own area and manages only the people whose every node (or organisation) is
inside it, so a street's admin can neither reach the district nor hand out what they lack.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select

from ledger.errors import Conflict, Forbidden, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.base import utcnow
from ledger.models.organisation import Organisation
from ledger.models.user import STAFF_ROLES, Membership, Role, StaffScope, User
from ledger.services import tree
from ledger.services.access import Actor, Permission, authorize, may
from ledger.services.audit_subjects import record_event, record_state
from ledger.services.concurrency import check_version
from ledger.services.idempotency import (
    HEADER,
    Created,
    claim_create,
    reserve_key,
)
from ledger.services.login_throttle import clear_login_failures
from ledger.services.pagination import Page, PageRequest, fetch_page
from ledger.services.passwords import check_password_rules, hash_password, password_matches
from ledger.services.tokens import revoke_all_tokens

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class NewUser:
    username: str
    display_name: str
    role: Role
    password: str
    organisation_ids: tuple[uuid.UUID, ...] = ()
    # Staff: the nodes the role is held at (None: the whole deployment); the creator's when empty.
    scopes: tuple[str | None, ...] = ()


def _organisations(ids: Iterable[uuid.UUID]) -> list[Organisation]:
    wanted = list(dict.fromkeys(ids))
    found = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(wanted)))}
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise ValidationFailed.field(
            "organisation_ids", translatable("no such organisation: %(ids)s", ids=", ".join(missing))
        )
    return [found[i] for i in wanted]


def _check_memberships(actor: Actor, role: Role, organisation_ids: tuple[uuid.UUID, ...]) -> None:
    if role is Role.ORG_MEMBER and not organisation_ids:
        raise ValidationFailed.field(
            "organisation_ids", translatable("an org_member must belong to an organisation")
        )
    if role is not Role.ORG_MEMBER and organisation_ids:
        raise ValidationFailed.field(
            "organisation_ids", translatable("only org_member users belong to organisations")
        )
    outside = [str(i) for i in organisation_ids if not may(actor, Permission.MANAGE_USERS, i)]
    if outside:
        raise ValidationFailed.field(
            "organisation_ids",
            translatable("outside the area you work in: %(ids)s", ids=", ".join(outside)),
            code="access.grant_outside_scope",
        )


def _checked_scopes(actor: Actor, role: Role, scopes: tuple[str | None, ...]) -> tuple[str | None, ...]:
    """The nodes a staff role is held at: known divisions inside the granter's area."""
    if role not in STAFF_ROLES:
        if scopes:
            raise ValidationFailed.field(
                "scopes",
                translatable(
                    "only staff hold their role at nodes of the tree; members belong to organisations"
                ),
            )
        return ()
    if not scopes:
        return actor.scopes  # the new staff member works in the creator's area
    checked = []
    for code in dict.fromkeys(scopes):
        if code is not None:
            tree.find_node("scopes", code)
        if not actor.covers(code):
            raise ValidationFailed.field(
                "scopes",
                translatable("%(code)s is outside the area you work in", code=code or "*"),
                code="access.grant_outside_scope",
            )
        checked.append(code)
    return tuple(checked)


def _manages(actor: Actor, user: User) -> bool:
    """Whether every node and organisation of ``user`` is inside ``actor``'s area."""
    if actor.reaches_everything:
        return True
    if Role(user.role) is Role.ORG_MEMBER:
        return bool(user.organisation_ids) and user.organisation_ids <= actor.organisation_ids
    return all(actor.covers(code) for code in user.scope_codes)


def create_user(actor: Actor, new: NewUser, key: str | None) -> Created[User]:
    """Create a user (admins); idempotent by ``key`` (Idempotency-Key).

    The password is not fingerprinted: a plain hash of it would be a fast-to-guess copy kept
    beside the account. A retry's password is checked against the account's instead.
    """
    authorize(actor, Permission.MANAGE_USERS)
    request = {name: value for name, value in vars(new).items() if name != "password"}
    claim = claim_create(key, "user", request)
    reservation = reserve_key(actor.audit_identity["id"], claim, "user", User)
    if reservation.earlier is not None:
        return Created(_same_password(reservation.earlier, new.password), created=False)
    username = new.username.strip().lower()
    if not USERNAME.match(username):
        raise ValidationFailed.field(
            "username", translatable("2-64 characters: lower-case letters, digits, '.', '_' or '-'")
        )
    check_password_rules(new.password)
    _check_memberships(actor, new.role, new.organisation_ids)
    scopes = _checked_scopes(actor, new.role, new.scopes)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(
            translatable("The username '%(username)s' is taken.", username=username),
            errors={"username": [translatable("is taken")]},
        )
    user = User(
        id=reservation.id,
        username=username,
        display_name=new.display_name.strip() or username,
        role=new.role.value,
        password_hash=hash_password(new.password),
    )
    user.memberships = [Membership(organisation=o) for o in _organisations(new.organisation_ids)]
    user.scopes = [StaffScope(division_code=code) for code in scopes]
    db.session.add(user)
    db.session.flush()
    record_state(actor, "user.created", "user", user)
    return Created(user, created=True)


def _same_password(user: User, password: str) -> User:
    """A retried create must repeat the first one's password too."""
    if not password_matches(user.password_hash, password):
        raise Conflict(
            translatable(
                "This %(header)s was used for a different request; use a new key for a new %(what)s.",
                header=HEADER,
                what="user",
            ),
            errors={HEADER: [translatable("was used for a different request")]},
        )
    return user


def get_user(actor: Actor, user_id: uuid.UUID) -> User:
    if actor.user_id != user_id:
        authorize(actor, Permission.READ_USERS)
    user = db.session.get(User, user_id)
    if user is None or (actor.user_id != user_id and not _sees(actor, user)):
        raise NotFound.thing("user", user_id)
    return user


def _sees(actor: Actor, user: User) -> bool:
    """Staff see the people who work or belong somewhere in their area."""
    if actor.reaches_everything:
        return True
    return bool(user.organisation_ids & actor.organisation_ids) or any(
        code is not None and actor.covers(code) for code in user.scope_codes
    )


def find_user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound.thing("user", repr(username))
    return user


def list_users(
    actor: Actor, request: PageRequest, role: Role | None = None, *, search: str | None = None
) -> Page[User]:
    """Users by username; ``search`` keeps those whose username or name contains it."""
    authorize(actor, Permission.READ_USERS)
    statement = select(User).order_by(User.username)
    if not actor.reaches_everything:
        working_here = select(StaffScope.user_id).where(tree.within(StaffScope.division_code, actor.scopes))
        belonging_here = select(Membership.user_id).where(
            Membership.organisation_id.in_(actor.organisation_ids)
        )
        statement = statement.where(or_(User.id.in_(working_here), User.id.in_(belonging_here)))
    if role is not None:
        statement = statement.where(User.role == role.value)
    if search:
        statement = statement.where(
            or_(
                User.username.icontains(search, autoescape=True),
                User.display_name.icontains(search, autoescape=True),
            )
        )
    return fetch_page(statement, request)


def update_user(
    actor: Actor,
    user_id: uuid.UUID,
    expected_version: int | None,
    *,
    display_name: str | None = None,
    role: Role | None = None,
    organisation_ids: tuple[uuid.UUID, ...] | None = None,
    scopes: tuple[str | None, ...] | None = None,
    is_active: bool | None = None,
) -> User:
    authorize(actor, Permission.MANAGE_USERS)
    user = get_user(actor, user_id)
    if not _manages(actor, user):
        raise Forbidden(
            translatable("That person also works outside the area you work in."),
            code="access.outside_scope",
        )
    check_version(user, expected_version)
    if actor.user_id == user.id and (role is not None or is_active is False or scopes is not None):
        raise Conflict(
            translatable("You may not change your own role or disable yourself."), code="user.self_change"
        )
    new_role = role if role is not None else Role(user.role)
    new_orgs = organisation_ids if organisation_ids is not None else tuple(user.organisation_ids)
    if role is not None and role is not Role.ORG_MEMBER and organisation_ids is None:
        new_orgs = ()
    _check_memberships(actor, new_role, new_orgs)
    if scopes is None:
        kept = user.scope_codes if new_role in STAFF_ROLES else ()
        new_scopes = kept or _checked_scopes(actor, new_role, ())
    else:
        new_scopes = _checked_scopes(actor, new_role, scopes)
    if display_name is not None:
        user.display_name = display_name.strip() or user.username
    user.role = new_role.value
    if set(new_orgs) != set(user.organisation_ids):
        user.memberships = [Membership(organisation=o) for o in _organisations(new_orgs)]
    scopes_changed = set(new_scopes) != set(user.scope_codes)
    if scopes_changed:
        # Keep the rows of nodes still held (the pair is unique), drop and add only the difference.
        kept_rows = [s for s in user.scopes if s.division_code in new_scopes]
        held = {s.division_code for s in kept_rows}
        user.scopes = kept_rows + [StaffScope(division_code=c) for c in new_scopes if c not in held]
    revoke_tokens = False
    if is_active is not None and is_active != user.is_active:
        user.is_active = is_active
        revoke_tokens = not is_active
    if role is not None or scopes_changed:
        # A token carries the powers of the role it was issued under; make the holder sign in again.
        revoke_tokens = True
    db.session.flush()
    record_state(actor, "user.updated", "user", user)
    if revoke_tokens:
        _revoke_tokens(actor, user, "role or access changed")
    return user


def _revoke_tokens(actor: Actor, user: User, reason: str) -> None:
    revoked = revoke_all_tokens(actor, user)
    if revoked:
        record_event(actor, "user.tokens_revoked", "user", user.id, {"count": revoked, "reason": reason})


def disable_user(actor: Actor, user: User) -> User:
    return update_user(actor, user.id, None, is_active=False)


def change_password(actor: Actor, user: User, current_password: str | None, new_password: str) -> None:
    """Users change their own password (knowing the current one); admins reset anyone's."""
    if actor.user_id == user.id:
        if current_password is None or not password_matches(user.password_hash, current_password):
            raise ValidationFailed.field("current_password", translatable("is not your current password"))
    else:
        authorize(actor, Permission.MANAGE_USERS)
    check_password_rules(new_password, "new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    clear_login_failures(user)
    db.session.flush()
    record_state(actor, "user.password_changed", "user", user)
    _revoke_tokens(actor, user, "password changed")


def names_of(identities: Iterable[str | None]) -> dict[str, str]:
    """Each recorded identity (``Actor.audit_identity["id"]``: a user's id) with the person's name.

    For pages that show who prepared, filed or decided something: names, never ids. An identity
    that is not a user (the operator at the command line) is left out; the page says who it was.
    """
    ids = set()
    for identity in identities:
        try:
            ids.add(uuid.UUID(identity or ""))
        except ValueError:
            continue
    if not ids:
        return {}
    found = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {str(user_id): name for user_id, name in found}
