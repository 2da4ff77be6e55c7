"""OCDS releases as they were published: facts written once, never rebuilt.

A release is what the publisher said about a contract on a given date. Once published it is
kept exactly (its JSON text, byte for byte) and served as it is; a later change to the contract
is a new release with its own id and date. ``event`` names the business event the release
reports (the award and contract, a payment, the termination) and ``digest`` its content, so that
publishing again can tell a release already out from one whose content for the same event has
changed (which is then published as an amendment).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, UTCDateTime, utcnow


class PublishedRelease(Base):
    __tablename__ = "ocds_release"
    __table_args__ = (Index("ix_ocds_release_fund_event", "fund_id", "event", "released_at"),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    ocid: Mapped[str] = mapped_column(String(100))
    fund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund.id", ondelete="RESTRICT"))
    event: Mapped[str] = mapped_column(String(120))
    digest: Mapped[str] = mapped_column(String(64))
    # The business event's moment (the release's date), for ordering releases as instants.
    released_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[str] = mapped_column(Text)
