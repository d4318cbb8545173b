"""``notifications.signing.verify``, as a receiver runs it on what anyone may send: a hostile header is a
refusal (False), never an exception; a replay is refused once its ``t`` is out of tolerance."""

import time

import pytest

from notifications.signing import signature_header, verify


@pytest.mark.parametrize(
    "header",
    ["t=" + "9" * 5000 + ",v1=00", "t=¹²³,v1=00", "t=1,t=1,v1=00", "", "v1=00", "t=-5,v1=00", "t=1,v1=é"],
)
def test_a_hostile_signature_header_is_refused_not_raised(header):
    assert verify(header, b"{}", "whsec_x", now=time.time()) is False


def test_a_replay_is_accepted_within_the_tolerance_and_refused_after():
    body, now = b'{"delivery": "notification:1"}', time.time()
    header = signature_header(["whsec_x"], int(now), body)
    assert verify(header, body, "whsec_x", now=now + 299)
    assert not verify(header, body, "whsec_x", now=now + 301)
    assert not verify(header, body + b" ", "whsec_x", now=now)
