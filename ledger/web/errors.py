"""Error pages for people: what happened and what to do next, never a stack trace."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, redirect, render_template, request, url_for

from ledger.messages import translatable
from ledger.web.translated import in_reader_language

NEXT_STEPS = {
    400: translatable("Go back, reload the page and try again."),
    401: translatable("Please sign in first."),
    403: translatable("This page is not yours to see. Ask an administrator if you need it."),
    404: translatable("There is nothing here. Check the address, or start again from the home page."),
    409: translatable(
        "This cannot be done in the state it is in now. Reload the page to see where it stands."
    ),
    412: translatable("Someone changed this first. Reload the page and try again."),
    413: translatable("The upload is larger than the service accepts."),
    422: translatable("Correct what is listed and try again."),
    429: translatable("Too many attempts; wait a little and try again."),
    500: translatable(
        "Something went wrong on our side and has been logged. Try again later, quoting the reference if it persists."
    ),
}


def error_page(
    status: int, title: str, detail: str, errors: Mapping[str, list[str]], headers: Mapping[str, str]
) -> Response:
    if status == 401:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))  # type: ignore[return-value]
    next_step = NEXT_STEPS.get(status, NEXT_STEPS[400 if status < 500 else 500])
    body = render_template(
        "web/error.html",
        status=status,
        title=in_reader_language(title),
        detail=in_reader_language(detail),
        errors=errors,
        next_step=in_reader_language(next_step),
    )
    response = Response(body, status=status, mimetype="text/html")
    for name, value in headers.items():
        if name.lower() != "www-authenticate":
            response.headers[name] = value
    return response
