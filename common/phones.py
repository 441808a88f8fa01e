"""What counts as a mainland mobile number, and its one stored form: 11 digits.

The chat assistant reads phones out of owners' messages, the roster import reads them out
of spreadsheet cells, and the backend compares the phone an owner gives with the ones on
file. Those three must agree digit for digit, or an owner imported as 13800000501 cannot
prove who they are by typing 0086 138-0000-0501. So all of them normalise through here.

Standard library only and Python 3.10: this module also runs inside Rasa's environment.
"""

from __future__ import annotations

import re
import unicodedata

# Between digit groups people write spaces, dashes, dots, slashes or brackets: (138) 0000.0501, 138/0000/0501.
SEPARATOR = r"[\s\-./()]"
_SEPARATORS = re.compile(SEPARATOR)
# The country code as written before a mobile: +86, 0086, or a bare 86 (then 13 digits in all).
_MOBILE = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})")


def normalize_mobile(text: str) -> str | None:
    """The 11 digits of the one mainland mobile number ``text`` is, or None if it is not one.

    ``+86 138-0000-0501``, ``0086 13800000501``, ``86 13800000501``, ``１３８.0000.0501``,
    ``138/0000/0501`` all give ``13800000501``. Full-width digits (from a Chinese IME) count as
    digits. Anything else in the text (a second number, a landline, a name) makes it not a
    mobile number: a guess here would bind or import the wrong person.
    """
    value = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    # Digits of any script as ASCII (NFKC leaves ٨ or ८ alone, and \d matches them): what is
    # returned is stored, compared and sent to SMS providers as 11 ASCII digits.
    value = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in value)
    match = _MOBILE.fullmatch(value)
    return match[1] if match else None


def is_mobile(text: str) -> bool:
    """Whether ``text`` is one mainland mobile number in any of the forms :func:`normalize_mobile` reads."""
    return normalize_mobile(text) is not None


def same_mobile(given: str, on_file: str) -> bool:
    """Whether two texts are the same mobile number, however each is written; never for a non-number.

    Two empty or unreadable phones are not "the same": an owner on file without a phone
    must not be matched by someone typing nothing.
    """
    wanted = normalize_mobile(given)
    return wanted is not None and wanted == normalize_mobile(on_file)
