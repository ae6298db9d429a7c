"""The masking rule (``shared.masking``): every address's local part but its first character is
masked, whatever it contains, wherever it stands in a log line; the domain stays."""

from __future__ import annotations

import json

import pytest

from shared.masking import MASK, mask_emails

# (address, its local part, what is left of it masked, the domain as written)
CORPUS = [
    ("ada.lovelace@example.com", "ada.lovelace", "a***@example.com"),
    ("o'brien\\61540@example.com", "o'brien\\61540", "o***@example.com"),  # issue 11's
    ("Grace.Hopper+sync@navy.mil", "Grace.Hopper+sync", "G***@navy.mil"),
    ("a!#$%&'*+/=?^_`{|}~-b@example.com", "a!#$%&'*+/=?^_`{|}~-b", "a***@example.com"),
    ("john.smith(comment)@example.com", "john.smith(comment)", "j***@example.com"),
    # RFC 5322 quoted local parts: spaces, specials, escaped quotes and backslashes, an at-sign
    ('"john doe"@example.com', '"john doe"', '"***@example.com'),
    ('"john..doe"@example.com', '"john..doe"', '"***@example.com'),
    ('"john\\"doe"@example.com', '"john\\"doe"', '"***@example.com'),
    ('"\\\\"@example.com', '"\\\\"', '"***@example.com'),
    (
        '"very.(),:;<>[]\\".VERY.\\"very@\\\\ \\"very\\".unusual"@strange.example.com',
        '"very.(),:;<>[]\\".VERY.\\"very@\\\\ \\"very\\".unusual"',
        '"***@strange.example.com',
    ),
    # unicode local parts, IDN domains (unicode and punycode)
    ("jörg.müller@bücher.example", "jörg.müller", "j***@bücher.example"),
    ("用户名@例子.广告", "用户名", "用***@例子.广告"),
    ("δοκιμή@παράδειγμα.gr", "δοκιμή", "δ***@παράδειγμα.gr"),
    ("anna@xn--bcher-kva.example", "anna", "a***@xn--bcher-kva.example"),
    # at-signs as logged text carries them: percent-encoded (once, twice), a JSON escape kept as
    # text, an HTML entity, fullwidth and small at-signs
    ("ada%40example.com", "ada", "a***%40example.com"),
    ("ada%2540example.com", "ada", "a***%2540example.com"),
    ("ada\\u0040example.com", "ada", "a***\\u0040example.com"),
    ("ada&#64;example.com", "ada", "a***&#64;example.com"),
    ("ada\uff20example.com", "ada", "a***\uff20example.com"),
    ("ada\ufe6bexample.com", "ada", "a***\ufe6bexample.com"),
    ("ada@example\uff0ecom", "ada", "a***@example\uff0ecom"),
    ("ADA.LOVELACE@EXAMPLE.COM", "ADA.LOVELACE", "A***@EXAMPLE.COM"),
    ("ada@[192.0.2.1]", "ada", "a***@[192.0.2.1]"),
    ("a@example.com", "a", "a***@example.com"),
]
CONTEXTS = [
    "{}",
    "could not create {}: refused",
    "Email: invalid email address: {}",
    'said "hi" to {} (twice)',
    "<{}>",
    "mailto:{}",
    "first line\n{}\nlast line",
    "{} and {}",
]


def _hidden(local: str) -> list[str]:
    """What must not be left of a local part: all of it but its first character, as written and as
    a JSON string holds it."""
    tail = local[1:]
    if len(tail) < 2:
        return []
    return [tail, json.dumps(tail, ensure_ascii=False)[1:-1], json.dumps(tail)[1:-1]]


@pytest.mark.parametrize(("address", "local", "masked"), CORPUS, ids=[c[0] for c in CORPUS])
def test_an_address_is_masked_but_its_first_character_and_its_domain(address, local, masked):
    assert mask_emails(address) == masked
    assert mask_emails(f"created {address}.") == f"created {masked}."


@pytest.mark.parametrize(("address", "local", "masked"), CORPUS, ids=[c[0] for c in CORPUS])
@pytest.mark.parametrize("context", CONTEXTS)
def test_nothing_of_a_local_part_is_left_in_any_context(address, local, masked, context):
    text = context.format(address, address)
    for form in (
        text,
        json.dumps({"message": text}),
        json.dumps({"message": text, "extra": [text]}, ensure_ascii=False),
        repr({"email": text}),
    ):
        out = mask_emails(form)
        assert not [h for h in _hidden(local) if h in out], (form, out)
        assert MASK in out
        assert mask_emails(out) == out  # masking again changes nothing


@pytest.mark.parametrize(("address", "local", "masked"), CORPUS, ids=[c[0] for c in CORPUS])
def test_masking_a_json_line_keeps_it_json(address, local, masked):
    record = {"message": f"sync health {address}", "reason": address, "items": [address, 3, None]}
    for ensure_ascii in (True, False):
        line = json.dumps(record, ensure_ascii=ensure_ascii, separators=(",", ":"))
        assert json.loads(mask_emails(line))["items"][1:] == [3, None]


def test_the_example_of_the_issue_leaked_part_of_the_local_part():
    line = json.dumps({"reason": "Email: invalid email address: o'brien\\61540@example.com"})
    assert mask_emails(line) == '{"reason": "Email: invalid email address: o***@example.com"}'


@pytest.mark.parametrize(
    "text",
    [
        "@logger.inject_lambda_context",  # a decorator in a traceback
        "see @mentions and user@localhost",  # no local part; a domain without a dot
        "arn:aws:lambda:us-east-1:123456789012:function:hssync-ApplyFunction",
        '{"level":"INFO","message":"apply","plans":60}',
        "a***@example.com",  # masked already
    ],
)
def test_text_without_an_address_is_left_as_it_is(text):
    assert mask_emails(text) == text


def test_several_addresses_are_each_masked_and_keep_their_domains():
    text = "ada@example.com,grace@navy.mil;linus@kernel.org <alan@turing.example>"
    assert mask_emails(text) == (
        f"a{MASK}@example.com,g{MASK}@navy.mil;l{MASK}@kernel.org <a{MASK}@turing.example>"
    )


def test_a_local_part_that_starts_with_a_json_escape_keeps_the_whole_escape():
    line = json.dumps({"m": "\\ada@example.com", "n": "\u00e9ric@example.com"})
    assert json.loads(mask_emails(line)) == {"m": "\\***@example.com", "n": "\u00e9***@example.com"}


def test_a_long_line_is_masked_in_linear_time():
    line = ("x" * 200_000) + " ada@example.com " + ('"' * 50_000) + "@example.com"
    assert "a***@example.com" in mask_emails(line)
