"""The words of a name as search matches them: case and accents ignored (Zoë is zoe),
an apostrophe joining and parting (O'Brien is obrien, and o and brien), a hyphen
parting (Smith-Jones is smith and jones), so a clinician finds a patient however the
name was typed."""

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")
_APOSTROPHES = re.compile(r"['\u2019\u02bc`]")


def words_of(*parts: str) -> list[str]:
    """Lower-case ASCII words, accents dropped, each once, in order."""
    folded = unicodedata.normalize("NFKD", " ".join(parts)).casefold()
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    joined = _WORD.findall(_APOSTROPHES.sub("", plain))
    return list(dict.fromkeys(joined + _WORD.findall(plain)))


def after_prefix(prefix: str) -> str:
    """The first string after every string that starts with `prefix` (for a range scan
    `prefix <= word < after_prefix(prefix)`, which an ordinary index serves)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
