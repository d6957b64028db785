"""A short human-readable narrative for every resource Parley writes (FHIR's `text`), so a
generic FHIR viewer shows something sensible and validators have no `dom-6` to warn of.

Everything in it comes from the resource's own elements and is escaped: a message text
of `<script>` is shown as those characters, never as markup."""

from html import escape
from typing import Any

XHTML = "http://www.w3.org/1999/xhtml"


def narrative(*paragraphs: str | None) -> dict[str, Any]:
    shown = "".join(
        f"<p>{escape(paragraph).replace(chr(10), '<br/>')}</p>"
        for paragraph in paragraphs
        if paragraph
    )
    return {"status": "generated", "div": f'<div xmlns="{XHTML}">{shown}</div>'}
