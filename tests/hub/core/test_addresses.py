"""Email addresses are checked by email-validator (pydantic's EmailStr), not by patterns."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hub.cli.main import main
from hub.core.addresses import find_email, valid_email

# Addresses the hand-written patterns accepted or refused wrongly.
SYNTAX = [
    ("Ada@Example.ORG", "ada@example.org"),
    ("josé@example.com", "josé@example.com"),  # internationalized local part (RFC 6531)
    ("ada..lovelace@example.org", None),  # consecutive dots
    (".ada@example.org", None),  # leading dot
    ("ada@-example.org", None),  # a label starting with a hyphen
    ("ada@example..org", None),
    ("a,b@example.org", None),
    ("<b>@example.org", None),
    ("ada@localhost", None),  # no domain name
    ("not an email", None),
]


@pytest.mark.parametrize(("text", "expected"), SYNTAX)
def test_address_syntax_follows_email_validator(text: str, expected: str | None) -> None:
    assert valid_email(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sure: Ada@Example.org thanks", "ada@example.org"),
        ("write to me at ada@example.org.", "ada@example.org"),
        ("(ada@example.org)", "ada@example.org"),
        ("mail josé@example.com please", "josé@example.com"),
        ("it is ada..x@example.org", None),
        ("first bad..one@example.org then good@example.org", "good@example.org"),
        ("no email here", None),
    ],
)
def test_the_bot_finds_the_first_valid_address_in_free_text(
    text: str, expected: str | None
) -> None:
    assert find_email(text) == expected


def test_agent_add_refuses_an_invalid_address() -> None:
    result = CliRunner().invoke(
        main, ["agent", "add", "--email", "bo..x@example.org", "--name", "Bo", "--password-stdin"]
    )
    assert result.exit_code == 2
    assert "not an email address" in result.output
