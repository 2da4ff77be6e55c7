"""The data model, one module per aggregate; importing this package registers every table."""

from ledger.models.audit import (
    AuditCheckpoint,
    AuditEntry,
    AuditHead,
    AuditQueueItem,
    AuditSigningKey,
    MerkleNode,
)
from ledger.models.base import Base
from ledger.models.books import (
    AccountingPeriod,
    EntrySource,
    JournalEntry,
    PeriodBalance,
    PeriodStatus,
    Posting,
    Side,
)
from ledger.models.community import Community, CommunityKind
from ledger.models.disbursement import (
    Disbursement,
    DisbursementKind,
    DisbursementStatus,
    Tranche,
    TrancheCondition,
)
from ledger.models.expense_report import ExpenseLine, ExpenseReport, InvoiceClaim, Receipt, ReportStatus
from ledger.models.fund import BudgetEntry, BudgetRevision, Fund, FundKind, FundStatus, RevisionStatus
from ledger.models.idempotency import IdempotentCreate
from ledger.models.notification import (
    Delivery,
    DeliveryAttempt,
    Notification,
    NotificationPreference,
    NotifierCursor,
    OutboxMail,
    WebhookEndpoint,
)
from ledger.models.ocds_release import PublishedRelease
from ledger.models.organisation import (
    FilingCategory,
    Organisation,
    OrganisationStatus,
    OrganisationStatusChange,
    RegistrationType,
)
from ledger.models.reference import Account, ChartOfAccounts, ExpenseCategory, ExpenseCategoryList
from ledger.models.region import Division, DivisionLevel, DivisionList
from ledger.models.requirement import Requirement, RequirementKind, ResponsibleRole
from ledger.models.user import ApiToken, Membership, Role, StaffScope, User
from ledger.models.witness import WitnessCosignature

__all__ = [
    "Account",
    "AccountingPeriod",
    "ApiToken",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
    "AuditQueueItem",
    "AuditSigningKey",
    "Base",
    "BudgetEntry",
    "BudgetRevision",
    "ChartOfAccounts",
    "Community",
    "CommunityKind",
    "Delivery",
    "DeliveryAttempt",
    "Disbursement",
    "DisbursementKind",
    "DisbursementStatus",
    "Division",
    "DivisionLevel",
    "DivisionList",
    "EntrySource",
    "ExpenseCategory",
    "ExpenseCategoryList",
    "ExpenseLine",
    "ExpenseReport",
    "FilingCategory",
    "Fund",
    "FundKind",
    "FundStatus",
    "IdempotentCreate",
    "InvoiceClaim",
    "JournalEntry",
    "Membership",
    "MerkleNode",
    "Notification",
    "NotificationPreference",
    "NotifierCursor",
    "Organisation",
    "OrganisationStatus",
    "OrganisationStatusChange",
    "OutboxMail",
    "PeriodBalance",
    "PeriodStatus",
    "Posting",
    "PublishedRelease",
    "Receipt",
    "RegistrationType",
    "ReportStatus",
    "Requirement",
    "RequirementKind",
    "ResponsibleRole",
    "RevisionStatus",
    "Role",
    "Side",
    "StaffScope",
    "Tranche",
    "TrancheCondition",
    "User",
    "WebhookEndpoint",
    "WitnessCosignature",
]
