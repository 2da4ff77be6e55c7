-- Least privilege for the application's PostgreSQL role (run as the database owner, after
-- `ledger init` has migrated the schema as that owner).
--
-- The application connects as `ledger_app`. It may read and write the working tables, but the
-- audit trail's tables accept only SELECT and INSERT from it: even a compromised application
-- cannot rewrite history, and as it owns nothing it cannot drop the append-only triggers.
--
--   createuser --login ledger_app          (once per cluster; give it a password)
--   psql -d ledger -v ON_ERROR_STOP=1 -f deploy/postgres-app-role.sql

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ledger_app;
GRANT USAGE ON SCHEMA public TO ledger_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ledger_app;

-- Working tables: everything but the audit trail.
GRANT SELECT, INSERT, UPDATE, DELETE ON
    community, organisation, app_user, membership, staff_scope, login_throttle, api_token, tranche, expense_line,
    invoice_claim
TO ledger_app;
-- Notifications: preferences and webhook endpoints (replayed); what the notifier derives and sends.
GRANT SELECT, INSERT, UPDATE, DELETE ON
    notification_preference, webhook_endpoint, notification, notifier_cursor, delivery, delivery_attempt,
    outbox_mail
TO ledger_app;
GRANT SELECT, INSERT, UPDATE ON accounting_period, fund, budget_revision, disbursement, expense_report TO ledger_app;
-- What is due: done or withdrawn by an update, never deleted.
GRANT SELECT, INSERT, UPDATE ON requirement TO ledger_app;
GRANT SELECT, INSERT ON receipt TO ledger_app;
-- The Idempotency-Key each community, organisation, user, fund and revision was created with.
GRANT SELECT, INSERT ON idempotent_create TO ledger_app;
-- Only the stored file's digest changes, when a new upload replaces a damaged copy (recorded).
GRANT UPDATE (stored_sha256) ON receipt TO ledger_app;
GRANT SELECT ON chart_of_accounts, account, expense_category_list, expense_category, alembic_version TO ledger_app;
GRANT SELECT, INSERT ON chart_of_accounts, account, expense_category_list, expense_category, division_list, division TO ledger_app;

-- The audit trail's machinery: the queue is consumed, the head row moves, keys are retired.
GRANT SELECT, INSERT, DELETE ON audit_queue TO ledger_app;
GRANT SELECT, UPDATE ON audit_head TO ledger_app;
GRANT SELECT, INSERT, UPDATE ON audit_signing_key TO ledger_app;

-- Append-only: read and add, never change or remove.
GRANT SELECT, INSERT ON audit_entry, merkle_node, audit_checkpoint, journal_entry, posting, budget_entry, period_balance TO ledger_app;
-- Witness cosignatures of checkpoints, as the witnesses sent them (append-only too).
GRANT SELECT, INSERT ON witness_cosignature TO ledger_app;
-- Published OCDS releases, exactly as published (append-only too).
GRANT SELECT, INSERT ON ocds_release TO ledger_app;
-- Organisations' status history: added to, never changed; its triggers refuse removing the rows
-- of an organisation that exists (they go only with an organisation removed as entered by mistake).
GRANT SELECT, INSERT, DELETE ON organisation_status_change TO ledger_app;
