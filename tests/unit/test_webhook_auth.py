"""Webhook authentication (pure): bearer, Standard Webhooks HMAC, GitHub signatures."""

from __future__ import annotations

import base64

import pytest

from tasks_core.webhooks.auth import (
    REPLAY_TTL_SECONDS,
    TOLERANCE_SECONDS,
    AuthFailed,
    check_github,
    github_signature,
    hmac_key,
    hmac_signature,
    new_secret,
    verify,
)

NOW = 1_700_000_000.0
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def test_github_published_test_vector() -> None:
    # https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    secret, payload = "It's a Secret to Everybody", b"Hello, World!"
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert github_signature(secret, payload) == expected
    check_github({"x-hub-signature-256": expected}, payload, secret)
    with pytest.raises(AuthFailed, match="does not match"):
        check_github({"x-hub-signature-256": expected}, b"Hello, World?", secret)


def test_standard_webhooks_published_test_vector() -> None:
    # the test vector of the Standard Webhooks reference libraries
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    signature = hmac_signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                               b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_new_secrets_are_32_random_bytes_in_whsec_form() -> None:
    one, two = new_secret(), new_secret()
    assert one != two and one.startswith("whsec_")
    assert len(hmac_key(one)) == 32


def test_bearer_right_wrong_and_missing() -> None:
    assert verify("bearer", {"authorization": f"Bearer {SECRET}"}, b"", SECRET, NOW) is None
    assert verify("bearer", {"authorization": f"bearer  {SECRET}"}, b"", SECRET, NOW) is None
    with pytest.raises(AuthFailed, match="wrong bearer token"):
        verify("bearer", {"authorization": "Bearer nope"}, b"", SECRET, NOW)
    with pytest.raises(AuthFailed, match="wrong bearer token"):
        verify("bearer", {"authorization": f"Basic {SECRET}"}, b"", SECRET, NOW)
    with pytest.raises(AuthFailed, match="missing Authorization"):
        verify("bearer", {}, b"", SECRET, NOW)


def _signed(body: bytes, *, msg: str = "msg_1", at: float = NOW,
            secret: str = SECRET) -> dict[str, str]:
    return {"webhook-id": msg, "webhook-timestamp": str(int(at)),
            "webhook-signature": hmac_signature(secret, msg, int(at), body)}


def test_hmac_right_signature_returns_the_message_id() -> None:
    assert verify("hmac", _signed(b'{"a": 1}'), b'{"a": 1}', SECRET, NOW) == "msg_1"


def test_hmac_accepts_one_matching_signature_among_several() -> None:
    headers = _signed(b"x")
    headers["webhook-signature"] = f"v1,AAAA {headers['webhook-signature']} v2,zzz"
    assert verify("hmac", headers, b"x", SECRET, NOW) == "msg_1"


@pytest.mark.parametrize("change, reason", [
    ({"webhook-signature": "v1,AAAA"}, "no webhook-signature matches"),
    ({"webhook-id": "msg_2"}, "no webhook-signature matches"),  # id is signed
    ({"webhook-timestamp": str(int(NOW) + 1)}, "no webhook-signature matches"),
    ({"webhook-timestamp": "soon"}, "not an integer"),
    ({"webhook-id": "has space"}, "without spaces"),
])
def test_hmac_wrong(change: dict[str, str], reason: str) -> None:
    headers = {**_signed(b"body"), **change}
    with pytest.raises(AuthFailed, match=reason):
        verify("hmac", headers, b"body", SECRET, NOW)


def test_hmac_wrong_body_or_secret() -> None:
    with pytest.raises(AuthFailed, match="no webhook-signature matches"):
        verify("hmac", _signed(b"body"), b"b0dy", SECRET, NOW)
    other = new_secret()
    with pytest.raises(AuthFailed, match="no webhook-signature matches"):
        verify("hmac", _signed(b"body", secret=other), b"body", SECRET, NOW)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_hmac_missing_header(missing: str) -> None:
    headers = _signed(b"body")
    del headers[missing]
    with pytest.raises(AuthFailed, match=f"missing header.*{missing}"):
        verify("hmac", headers, b"body", SECRET, NOW)


@pytest.mark.parametrize("offset", [-TOLERANCE_SECONDS - 1, TOLERANCE_SECONDS + 1])
def test_hmac_timestamps_outside_five_minutes_either_way_are_refused(offset: int) -> None:
    headers = _signed(b"body", at=NOW + offset)
    with pytest.raises(AuthFailed, match="more than 300 s"):
        verify("hmac", headers, b"body", SECRET, NOW)


@pytest.mark.parametrize("offset", [-TOLERANCE_SECONDS, TOLERANCE_SECONDS])
def test_hmac_timestamps_at_the_edge_pass(offset: int) -> None:
    assert verify("hmac", _signed(b"b", at=NOW + offset), b"b", SECRET, NOW) == "msg_1"
    assert REPLAY_TTL_SECONDS >= 2 * TOLERANCE_SECONDS  # an id is remembered while valid


def test_github_missing_and_wrong() -> None:
    with pytest.raises(AuthFailed, match="missing X-Hub-Signature-256"):
        verify("github", {}, b"body", SECRET, NOW)
    with pytest.raises(AuthFailed, match="does not match"):
        verify("github", {"x-hub-signature-256": "sha256=00"}, b"body", SECRET, NOW)
    good = {"x-hub-signature-256": github_signature(SECRET, b"body")}
    assert verify("github", good, b"body", SECRET, NOW) is None


def test_none_checks_nothing_and_unknown_schemes_are_refused() -> None:
    assert verify("none", {}, b"", SECRET, NOW) is None
    with pytest.raises(AuthFailed, match="unknown auth scheme"):
        verify("basic", {}, b"", SECRET, NOW)


def test_rate_windows_are_fixed_and_retry_after_is_what_is_left_of_one() -> None:
    from tasks_core.webhooks.receive import rate_window

    assert rate_window(0.2, 60) == (0, 60)  # 59.8 s left: rounded up
    assert rate_window(60.0, 60) == (1, 60)  # a new window starts whole
    assert rate_window(119.5, 60) == (1, 1)  # never less than 1 s
    assert rate_window(NOW, 3600)[0] == int(NOW // 3600)
