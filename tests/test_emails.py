"""The plain-address path of chalicelib.api.emails gives exactly email_validator's answer: for
every address it takes, email_validator accepts it and normalises it the same; everything else
goes to email_validator."""
import email_validator
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.api import emails

LABEL_CHARS = "abcXYZ09-"
LOCAL_CHARS = "aZ9._+-!#'`{|}~\"(),:;<>[\\] é"
labels = st.text(LABEL_CHARS, min_size=0, max_size=65)
domains = st.lists(labels, min_size=1, max_size=4).map(".".join) | st.sampled_from(
    ["example.com", "Example.COM", "mail.example.test", "x.localhost", "a.onion", "b.arpa", "c.invalid", "d.local",
     "xn--bcher-kva.example", "ab--cd.com", "a.b.c.d.e.fr", "1.2.3.4", "[127.0.0.1]", "ex_ample.com", "exa mple.com",
     "example.co1", "example.c", "-a.com", "a-.com", "a..com", ".a.com", "a.com."])
locals_ = st.text(LOCAL_CHARS, min_size=0, max_size=70) | st.sampled_from(
    ["ann.lee", "Ann.Lee+mfa", "a" * 64, "a" * 65, ".a", "a.", "a..b", "_-+", "a--b", "\"quoted\""])
# Mostly plain addresses, and the same near the edges of what the plain path takes.
plain_labels = (st.from_regex(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", fullmatch=True)
                | st.text("aZ9-", max_size=64))
near_plain = st.builds(
    lambda local, labels_, tld: f"{local}@{'.'.join(labels_ + [tld])}",
    st.lists(st.text("aZ9_+-", min_size=1, max_size=33), min_size=1, max_size=3).map(".".join),
    st.lists(plain_labels, min_size=1, max_size=3),
    st.from_regex(r"[a-zA-Z]{2,5}", fullmatch=True) | st.text("aZq9-", max_size=4)
    | st.sampled_from(sorted(emails.SPECIAL_USE_TOP_LEVEL)))
addresses = near_plain | st.builds(lambda local, domain, pad: f"{pad}{local}@{domain}{pad}", locals_, domains,
                                   st.sampled_from(["", " ", "\t"])) | st.text("aZ9.@-_+ ", max_size=40)


def email_validators_answer(address: str) -> str | None:
    try:
        return emails._validated(address.strip())
    except ValueError:
        return None


@settings(max_examples=3000, derandomize=True, deadline=None)
@given(addresses)
def test_a_plain_address_is_normalised_as_email_validator_would(address):
    plain = emails._plain(address.strip())
    if plain is not None:
        assert plain == email_validators_answer(address)
        assert emails.normalise(address) == plain


@pytest.mark.parametrize("address, normalised", [
    ("Ann.Lee+mfa@Example.COM", "ann.lee+mfa@example.com"),
    (" cold@example.com ", "cold@example.com"),
    ("first_last-1@mail.example.org", "first_last-1@mail.example.org"),
])
def test_common_addresses_take_the_plain_path(address, normalised):
    assert emails._plain(address.strip()) == normalised == email_validators_answer(address)


@pytest.mark.parametrize("address", ["a@b.localhost", "bücher@example.com", "a@xn--bcher-kva.example",
                                     "a@example", "a..b@example.com"])
def test_the_rest_is_email_validators_to_answer(address):
    assert emails._plain(address) is None


def test_the_special_use_names_are_email_validators():
    """Upgrade guard: a name email_validator adds is one the plain path must leave to it."""
    assert set(email_validator.SPECIAL_USE_DOMAIN_NAMES) <= emails.SPECIAL_USE_TOP_LEVEL
    assert all("." not in name for name in email_validator.SPECIAL_USE_DOMAIN_NAMES)
