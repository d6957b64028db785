"""NHS numbers: ten digits whose last is a Modulus 11 check of the other nine, written in
groups of 3, 3 and 4 (`943 476 5919`) so a person reading one aloud keeps their place."""

import re

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
_SPACING = re.compile(r"[\s-]+")
# The same system written another way (http, a capital, a trailing slash) is still the NHS
# number: taking it for some other identifier would pass a number by its check and its
# uniqueness.
_NHS_NUMBER_SYSTEM_SPELLINGS = re.compile(r"(?i)(https?://)?fhir\.nhs\.uk/id/nhs-number/?")


def is_nhs_number_system(system: str) -> bool:
    return _NHS_NUMBER_SYSTEM_SPELLINGS.fullmatch(system.strip()) is not None


def normalised(text: str) -> str | None:
    """The ten digits of `text` (spaces and hyphens allowed between them), else None."""
    digits = _SPACING.sub("", text.strip())
    return digits if len(digits) == 10 and digits.isascii() and digits.isdigit() else None


def passes_check(digits: str) -> bool:
    """The Modulus 11 check: weights 10 down to 2 over the first nine digits; 11 minus the
    remainder is the check digit (11 means 0; 10 means no valid number has these nine)."""
    total = sum(
        int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True)
    )
    check = 11 - total % 11
    return check != 10 and (0 if check == 11 else check) == int(digits[9])


def shown(digits: str) -> str:
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
