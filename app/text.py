"""One input type for free text from outside: messages, subjects, names, descriptions.

Text a person typed is kept as they would read it back, and as every reader
will see it:
- NUL and the other C0 and C1 control characters are refused (PostgreSQL
  cannot store NUL, and controls hide or rewrite what a screen shows); a
  multi-line text keeps newlines and tabs, and `\\r\\n` becomes `\\n`;
- invisible direction controls (bidi embeddings, overrides, isolates, marks)
  are refused: they reorder what is shown without being seen;
- invisible format characters (zero-width spaces, word joiners, soft hyphens,
  byte-order marks, invisible operators, stray tag characters) and letters that
  show as nothing are removed: "dose 10\\u200b0 mg" is stored as the "dose 100 mg"
  that every screen shows; zero-width joiners stay only between two non-ASCII
  characters, where emoji and scripts such as Persian need them;
- the result is in Unicode NFC, so the same words are the same bytes.
"""

import unicodedata

from pydantic import AfterValidator

DIRECTION_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
JOINERS = frozenset("\u200c\u200d")
# Letters that show as nothing at all (Hangul fillers, the braille blank).
BLANK_LETTERS = frozenset("\u115f\u1160\u2800\u3164\uffa0")
LINE_BREAKS = frozenset("\u2028\u2029")  # become newlines where newlines may be
MULTILINE_CONTROLS = frozenset("\n\t")
FLAG_BASE = "\U0001f3f4"  # a waving black flag: tag characters after it spell a region
TAGS = range(0xE0020, 0xE0080)


def clean(value: str, *, multiline: bool) -> str:
    """`value` as it is stored; ValueError (a 422) for what must not be stored at all.

    Invisible format characters (Unicode's category Cf: zero-width spaces, word joiners,
    soft hyphens, byte-order marks, invisible operators, tag characters...) are removed,
    except a joiner between two non-ASCII characters (emoji, Persian) and the tags of a
    subdivision flag; direction controls are refused, since removing them would reorder
    the text as shown."""
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        value = "".join("\n" if character in LINE_BREAKS else character for character in value)
    kept = [
        character
        for index, character in enumerate(value)
        if _keeps(value, index, character, multiline=multiline)
    ]
    return unicodedata.normalize("NFC", "".join(kept))


def _keeps(value: str, index: int, character: str, *, multiline: bool) -> bool:
    category = unicodedata.category(character)
    if character in DIRECTION_CONTROLS:
        raise ValueError("must not contain invisible text-direction characters")
    if category in ("Cc", "Zl", "Zp") and not (multiline and character in MULTILINE_CONTROLS):
        raise ValueError(f"must not contain control characters (U+{ord(character):04X})")
    if character in BLANK_LETTERS:
        return False
    if category != "Cf":
        return True
    if character in JOINERS:
        return _joins(value[index - 1 : index], value[index + 1 : index + 2])
    return ord(character) in TAGS and _in_flag(value, index)


def _joins(before: str, after: str) -> bool:
    return bool(before and after) and not before.isascii() and not after.isascii()


def _in_flag(value: str, index: int) -> bool:
    """Whether this tag character belongs to a flag: a run of tags right after its base."""
    start = index
    while start > 0 and ord(value[start - 1]) in TAGS:
        start -= 1
    return value[start - 1 : start] == FLAG_BASE


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
    # Stripped here: a length constraint placed after a validator counts, but no longer
    # strips, so "   " would otherwise pass a minimum length as a name.
    return clean(value, multiline=False).strip()


def _clean_text(value: str) -> str:
    return clean(value, multiline=True)


# Put first in an `Annotated[str, ...]`, before the length and whitespace constraints, which
# then count what is stored: NFC can lengthen text, removing invisible characters shorten it.
CleanLine = AfterValidator(_clean_line)  # names, subjects, titles
CleanText = AfterValidator(_clean_text)  # messages, descriptions, notes
