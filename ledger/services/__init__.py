"""Domain operations: authorise, check invariants, change state, record the audit entry, flush."""
