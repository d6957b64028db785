"""Errors on web pages are pages: sign-in when the session is missing, else a plain message."""

from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from app.web.dependencies import SignInRequired
from app.web.templating import render


def render_page_error(request: Request, status: int, detail: str, error: Exception) -> Response:
    if isinstance(error, SignInRequired) or status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    titles = {
        403: "Not allowed",
        404: "Not found",
        409: "Not possible now",
        413: "Too large",
        415: "Not a file we accept",
        422: "Please check what you entered",
        429: "Too many attempts",
        503: "Try again shortly",
    }
    return render(
        request,
        "error.html",
        status_code=status,
        title=titles.get(status, "Something went wrong"),
        detail=detail if status < 500 else "Something went wrong on our side.",
    )
