"""Compliance statements: figures drawn from the books, rendered as bilingual PDF/A-3b documents."""
