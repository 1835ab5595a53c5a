"""Email addresses, checked by email-validator through pydantic's ``EmailStr``.

Address syntax (RFC 5322/6531: dots, quoted parts, internationalized names, label rules)
is left to a maintained validator rather than a pattern. Deliverability (a DNS lookup) is
not checked: pydantic turns it off, and the hub never blocks on DNS for this.
``AccountEmail`` (an agent's login) also takes the reserved ``test`` domain (RFC 6761):
the hub never writes to it, and test and staging hubs name their agents there.
"""

from __future__ import annotations

import re
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, EmailStr, Field, TypeAdapter, ValidationError

_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)
# Finds what could be an address in free text; each candidate is then validated. Linear:
# a candidate starts only where a run of its characters starts, and each run is taken whole
# (possessive), so a long run with no "@" is read once, not once per position.
_PART = r"[^\s<>()\[\],;:\"'@]"
_CANDIDATE = re.compile(rf"(?<!{_PART}){_PART}++@{_PART}++")
_TRAILING = ".!?"


def _account_email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"value is not a valid email address: {exc}") from exc


AccountEmail = Annotated[
    str,
    Field(
        max_length=254,
        description="An email address; of the special-use domains only test is taken",
        json_schema_extra={"format": "email"},
    ),
    AfterValidator(_account_email),
]
"""An agent's login address (see the module's note on the ``test`` domain)."""


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
