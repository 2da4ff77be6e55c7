"""Input schemas: the rules for what a client may send, shared by the API and the web pages.

One module per area. The API loads JSON bodies through these schemas and the pages load their
forms through the same ones (:func:`ledger.web.forms.load_form`), so each rule (a length, the
date window, a required field, a choice) is written once and refuses the same value, with the
same message, wherever it arrives. Response schemas stay with the API.
"""
