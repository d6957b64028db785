"""One input type for free text from outside: messages, subjects, names, descriptions.

Text a person typed is kept as they would read it back, and as every reader
will see it:
- NUL and the other C0 and C1 control characters are refused (PostgreSQL
  cannot store NUL, and controls hide or rewrite what a screen shows); a
  multi-line text keeps newlines and tabs, and `\\r\\n` becomes `\\n`;
- invisible direction controls (bidi embeddings, overrides, isolates, marks)
  are refused: they reorder what is shown without being seen;
- zero-width spaces, word joiners, byte-order marks and soft hyphens are removed:
  "dose 10\\u200b0 mg" is stored as the "dose 100 mg" that every screen shows;
  zero-width joiners and non-joiners stay only between two non-ASCII characters,
  where emoji and scripts such as Persian need them;
- the result is in Unicode NFC, so the same words are the same bytes.
"""

import unicodedata

from pydantic import AfterValidator

DIRECTION_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Removed rather than refused: they change nothing a reader sees, only what is stored.
INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))
JOINERS = frozenset("\u200c\u200d")
MULTILINE_CONTROLS = frozenset("\n\t")


def clean(value: str, *, multiline: bool) -> str:
    """`value` as it is stored; ValueError (a 422) for what must not be stored at all."""
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    allowed = MULTILINE_CONTROLS if multiline else frozenset()
    for character in value:
        if character in DIRECTION_CONTROLS:
            raise ValueError("must not contain invisible text-direction characters")
        if unicodedata.category(character) == "Cc" and character not in allowed:
            raise ValueError(f"must not contain control characters (U+{ord(character):04X})")
    return unicodedata.normalize("NFC", _without_stray_joiners(value.translate(INVISIBLE)))


def _without_stray_joiners(value: str) -> str:
    return "".join(
        character
        for index, character in enumerate(value)
        if character not in JOINERS or _joins(value[index - 1 : index], value[index + 1 :][:1])
    )


def _joins(before: str, after: str) -> bool:
    return bool(before and after) and not before.isascii() and not after.isascii()


def has_control_characters(value: str) -> bool:
    """For input that is only looked up, never stored (a login name): whether it holds
    anything no stored value can."""
    return any(unicodedata.category(character) == "Cc" for character in value)


def visible(value: str) -> str:
    """`value` with every control character shown as U+FFFD: for logs and the audit log."""
    return "".join(
        "\ufffd" if unicodedata.category(character) == "Cc" else character for character in value
    )


def _clean_line(value: str) -> str:
    return clean(value, multiline=False)


def _clean_text(value: str) -> str:
    return clean(value, multiline=True)


# Put last in an `Annotated[str, ...]`, after the length and whitespace constraints.
CleanLine = AfterValidator(_clean_line)  # names, subjects, titles
CleanText = AfterValidator(_clean_text)  # messages, descriptions, notes
