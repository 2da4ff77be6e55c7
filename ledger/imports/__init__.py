"""Reading uploaded spreadsheets (XLSX) safely, and what each import's template holds.

``workbook`` reads an upload into plain rows of cells, refusing what is not a plain table;
``kinds`` names each import's columns. Neither knows the rules a row must follow: the input
schemas and the services do (``ledger.inputs.imports``, ``ledger.services.imports``).
"""
