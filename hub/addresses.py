"""Email addresses, checked by email-validator through pydantic's ``EmailStr``.

Address syntax (RFC 5322/6531: dots, quoted parts, internationalized names, label rules)
is left to a maintained validator rather than a pattern. Deliverability (a DNS lookup) is
not checked: pydantic turns it off, and the hub never blocks on DNS for this.
"""

from __future__ import annotations

import re

from pydantic import EmailStr, TypeAdapter, ValidationError

_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)
# Finds what could be an address in free text; each candidate is then validated. Linear:
# a candidate starts only where a run of its characters starts, and each run is taken whole
# (possessive), so a long run with no "@" is read once, not once per position.
_PART = r"[^\s<>()\[\],;:\"'@]"
_CANDIDATE = re.compile(rf"(?<!{_PART}){_PART}++@{_PART}++")
_TRAILING = ".!?"


def valid_email(text: str) -> str | None:
    """``text`` as a normalized address (lower-cased), or None when it is not one."""
    try:
        return _EMAIL.validate_python(text.strip()).lower()
    except ValidationError:
        return None


def find_email(text: str) -> str | None:
    """The first valid address written in ``text`` ("sure: ada@example.org, thanks")."""
    for candidate in _CANDIDATE.findall(text):
        found = valid_email(candidate.rstrip(_TRAILING))
        if found is not None:
            return found
    return None
