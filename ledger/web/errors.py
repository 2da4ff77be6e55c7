"""Error pages for people: what happened and what to do next, never a stack trace."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, redirect, render_template, request, url_for

NEXT_STEPS = {
    400: ("请返回上一页，刷新后重试。", "Go back, reload the page and try again."),
    401: ("请先登录。", "Please sign in first."),
    403: (
        "此页面不属于您的权限范围。如需访问，请联系管理员。",
        "This page is not yours to see. Ask an administrator if you need it.",
    ),
    404: (
        "没有找到该页面。请检查网址，或从首页重新进入。",
        "There is nothing here. Check the address, or start again from the home page.",
    ),
    409: (
        "数据已被他人更改或状态不允许此操作。请刷新页面查看最新情况。",
        "Someone changed this first, or its state does not allow that. Reload to see where it stands.",
    ),
    412: (
        "数据已被他人更改。请刷新页面后重试。",
        "Someone changed this first. Reload the page and try again.",
    ),
    413: ("上传的文件太大。", "The upload is larger than the service accepts."),
    422: ("请按提示修改后重试。", "Correct what is listed and try again."),
    429: ("尝试次数过多，请稍后再试。", "Too many attempts; wait a little and try again."),
    500: (
        "服务出现问题，已记录。请稍后重试；如仍有问题，请提供参考编号。",
        "Something went wrong on our side and has been logged. Try again later, quoting the reference if it persists.",
    ),
}


def error_page(
    status: int, title: str, detail: str, errors: Mapping[str, list[str]], headers: Mapping[str, str]
) -> Response:
    if status == 401:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))  # type: ignore[return-value]
    zh, en = NEXT_STEPS.get(status, NEXT_STEPS[400 if status < 500 else 500])
    body = render_template(
        "web/error.html", status=status, title=title, detail=detail, errors=errors, next_zh=zh, next_en=en
    )
    response = Response(body, status=status, mimetype="text/html")
    for name, value in headers.items():
        if name.lower() != "www-authenticate":
            response.headers[name] = value
    return response
