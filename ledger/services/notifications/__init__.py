"""Notifications, derived from the audit trail: who must act now, told in the app, by mail, by webhook.

``events`` turns an audit entry into notices for the people who now have to act (found with the
same access rules as the pages), ``reminders`` adds the time-driven ones (tranches due or
overdue), ``texts`` says each in a person's language, ``store`` keeps them and queues mail,
``digest`` queues the daily summary, ``channels`` and ``deliveries`` send with retries, and
``worker`` runs one pass of all this (``run_once``) or keeps running it. A request does nothing
of this: a mail server that is down can never fail or slow it.
"""
