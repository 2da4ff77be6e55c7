"""The figures of each compliance statement, summed from the books (plain dicts, no ORM objects)."""
