"""The OpenAPI document is built once per process, not once per application.

Building it (apispec walking every view's schemas) was most of ``create_app``'s time, and the
test suite creates an application for every test. The document depends only on the code and on
the ``API_*``/``OPENAPI_*`` settings, so the first application to finish registering its
blueprints keeps its document and later applications with the same settings reuse it; an
application with other settings builds (and keeps) its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from apispec import APISpec
from flask import Flask
from flask_smorest import Api, Blueprint

_DOCUMENT_SETTINGS = ("API_", "OPENAPI_")
_finished: dict[str, APISpec] = {}


def _document_key(config: Mapping[str, Any], spec_kwargs: Mapping[str, Any] | None) -> str:
    settings = {k: v for k, v in config.items() if k.startswith(_DOCUMENT_SETTINGS)}
    return json.dumps([settings, dict(spec_kwargs or {})], sort_keys=True, default=repr)


class SpecBuiltOncePerProcess(Api):  # type: ignore[misc]
    """An ``Api`` that documents its blueprints only when no earlier app has documented them."""

    _document_key = ""
    _reusing_document = False

    def init_app(self, app: Flask, *, spec_kwargs: Mapping[str, Any] | None = None) -> None:
        self._document_key = _document_key(app.config, spec_kwargs)
        super().init_app(app, spec_kwargs=spec_kwargs)
        finished = _finished.get(self._document_key)
        self._reusing_document = finished is not None
        if finished is not None:
            self.spec = finished

    def register_blueprint(self, blp: Blueprint, *, parameters: Any = None, **options: Any) -> None:
        if not self._reusing_document:
            super().register_blueprint(blp, parameters=parameters, **options)
            return
        # What flask-smorest's register_blueprint does besides documenting the views.
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)

    def document_complete(self) -> None:
        """Every blueprint is registered: later applications with these settings reuse the document."""
        _finished.setdefault(self._document_key, self.spec)
