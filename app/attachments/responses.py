"""An attachment as an HTTP response: its checked type, never rendered in place."""

from fastapi import Response

from app.attachments.service import Download


def download_response(found: Download) -> Response:
    return Response(
        content=found.data,
        media_type=found.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
