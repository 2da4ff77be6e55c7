"""The audit trail: an append-only, hash-chained, Merkle-checkpointed log of every change.

Each change is recorded as an entry whose canonical JSON bytes (RFC 8785) are hashed into an
RFC 6962 Merkle tree; each entry also carries the previous entry's leaf hash, and signed
checkpoints (C2SP tlog-checkpoint notes, Ed25519) pin the tree's root at chosen sizes, so an
auditor can verify the whole history without trusting the server.

The core modules import only the standard library and ``cryptography`` (never
Flask or SQLAlchemy), so ``python -m ledger.audit.verify`` runs anywhere:

- ``canonical``: canonical bytes, leaf hashes, timestamps and entry objects;
- ``merkle``: tree hashing, proofs from stored perfect nodes, proof verification;
- ``note`` and ``checkpoint``: signed notes, keys and signed checkpoints;
- ``report``, ``log_verifier``, ``bundle`` and ``verify``: streaming verification of a log
  or an export bundle, and the offline verifier's command line.
"""
