"""The words of a name as search matches them: case and accents ignored (Zoë is zoe,
Søren is soren), an apostrophe joining and parting (O'Brien is stored as obrien, and o
and brien), a hyphen parting (Smith-Jones is smith and jones), letters of every script
kept (Дмитрий is дмитрии, 陈 is 陈), so a clinician finds a patient however the name
was typed."""

import re
import unicodedata

# Letters and digits of any script: a name in Cyrillic, Greek or Arabic has words too.
_WORD = re.compile(r"[^\W_]+")
# Letters NFKD leaves whole: without these Søren would be s and ren, and never soren.
_LATIN = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "\u0131": "i"}
)
_APOSTROPHES = re.compile(r"['\u2019\u2018\u02bc`\u00b4]")
MAX_WORD = 100  # the column's width: a folded word can be longer than what was typed


def words_of(*parts: str) -> list[str]:
    """The words a name is stored under: each once, in order, both joined at an apostrophe
    and parted there, so O'Brien is found as obrien, o'brien and brien."""
    plain = _folded(" ".join(parts))
    joined = _WORD.findall(_APOSTROPHES.sub("", plain))
    return _fitted(joined + _WORD.findall(plain))


def query_words(text: str) -> list[str]:
    """The words a search asks for: joined at an apostrophe, so o'brien asks for obrien,
    which both O'Brien and OBrien were stored under."""
    return _fitted(_WORD.findall(_APOSTROPHES.sub("", _folded(text))))


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text).casefold().translate(_LATIN)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _fitted(words: list[str]) -> list[str]:
    return list(dict.fromkeys(word[:MAX_WORD] for word in words))


def after_prefix(prefix: str) -> str:
    """The first string after every string that starts with `prefix` (for a range scan
    `prefix <= word < after_prefix(prefix)`, which an ordinary index serves). Surrogates
    are not characters PostgreSQL can store, so the step passes over them."""
    following = ord(prefix[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:
        following = 0xE000
    return prefix[:-1] + chr(following)
