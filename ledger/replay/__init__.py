"""The audit trail as a copy of the tables: rows carried by entries, replayed and compared.

``tables`` says which tables are replayed and how a row is written into an entry; ``capture``
puts the rows each request writes into its audit entry; ``compare`` rebuilds the tables from
the trail and names the first field that differs; ``rebuild`` writes the rebuilt tables into a
fresh database, where the service's own code can compute books and statements from the trail.
"""
