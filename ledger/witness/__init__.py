"""A transparency-log witness (https://c2sp.org/tlog-witness), run as its own process.

A checkpoint kept only in the log's own database can be dropped or replaced by whoever
administers that database. A witness is somebody else: it keeps, in its own small SQLite
database, the latest checkpoint it cosigned for each log it follows, and cosigns a new one only
when the log proves (with an RFC 6962 consistency proof) that the new tree extends the old one.
A log that rewrites or forks its history can no longer get that witness's cosignature, and an
auditor who trusts the witness's key can tell.

* :mod:`ledger.witness.state`: the witness's database (stdlib ``sqlite3``; not the app's models);
* :mod:`ledger.witness.server`: the HTTP API (``POST /add-checkpoint`` exactly as the
  specification says, ``GET /checkpoint?origin=...`` for auditors), a plain WSGI application;
* :mod:`ledger.witness.cli`: ``ledger witness init | add-log | serve | latest``.

Nothing here imports Flask or the ledger's database: a witness runs on another machine, for
another organisation, with only this package, ``werkzeug`` and ``cryptography``.
"""
