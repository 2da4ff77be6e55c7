"""People who use the service, what they may do, and the bearer tokens they hold.

Each user has exactly one role. Staff (admins, finance officers, auditors, supervisors) hold
it at one or more nodes of the administrative tree (``StaffScope``) and reach the organisations
of those subtrees only; organisation members belong to one or more organisations
(``Membership``) and see only those organisations' data. Passwords are stored as Argon2id hashes and tokens as
SHA-256 digests: the database never holds anything that would let its reader sign in.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.models.base import Base, UTCDateTime, UUIDPrimaryKey, Versioned, utcnow
from ledger.models.organisation import Organisation


class Role(enum.StrEnum):
    ADMIN = "admin"
    FINANCE_OFFICER = "finance_officer"
    AUDITOR = "auditor"
    SUPERVISOR = "supervisor"  # civil-affairs staff: reads their area, changes nothing
    ORG_MEMBER = "org_member"


STAFF_ROLES = frozenset({Role.ADMIN, Role.FINANCE_OFFICER, Role.AUDITOR, Role.SUPERVISOR})


class User(UUIDPrimaryKey, Versioned, Base):
    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'finance_officer', 'auditor', 'supervisor', 'org_member')", name="role"
        ),
    )

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    scopes: Mapped[list[StaffScope]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def organisation_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(m.organisation_id for m in self.memberships)

    @property
    def scope_codes(self) -> tuple[str | None, ...]:
        """The nodes a staff member's role is held at, in code order; None is the whole deployment."""
        return tuple(sorted((s.division_code for s in self.scopes), key=lambda c: c or ""))


class StaffScope(UUIDPrimaryKey, Base):
    """A staff member's role held at one node of the administrative tree (and its subtree).

    ``division_code`` is a 12-digit division code (a province, city, district, street or
    community); NULL is the whole deployment, above every province.
    """

    __tablename__ = "staff_scope"
    __table_args__ = (UniqueConstraint("user_id", "division_code"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    division_code: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="scopes")


class Membership(Base):
    """An organisation member's belonging to one organisation."""

    __tablename__ = "membership"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship()


class LoginThrottle(Base):
    """Wrong passwords in a row, and until when the account is locked.

    Kept apart from ``User`` so that a failed sign-in never changes the user's version (ETag)
    nor needs an audit entry of its own.
    """

    __tablename__ = "login_throttle"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    failed_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(UUIDPrimaryKey, Base):
    """A bearer token; only the SHA-256 of its secret is kept."""

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_user_id_revoked_at", "user_id", "revoked_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purpose: Mapped[str] = mapped_column(String(32), default="login")

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
