from __future__ import annotations

from bot.clock import VirtualClock
from bot.exchange.safetrade.auth import NonceSource, auth_headers, sign

# Computed independently: printf '1700000000000key' | openssl dgst -sha256 -hmac secret
KNOWN_SIGNATURE = "437fa385bfe4ec013b81215b71f904dd22d5d13062b11eb7a8c8be0acdcab428"


def test_sign_matches_independent_known_answer_vector() -> None:
    signature = sign("secret", "1700000000000", "key")

    assert signature == KNOWN_SIGNATURE


def test_sign_depends_on_nonce_order_and_secret() -> None:
    assert sign("secret", "1700000000001", "key") != KNOWN_SIGNATURE
    assert sign("other", "1700000000000", "key") != KNOWN_SIGNATURE
    assert sign("secret", "key", "1700000000000") != KNOWN_SIGNATURE


def test_auth_headers_carry_key_nonce_and_signature() -> None:
    headers = auth_headers("key", "secret", "1700000000000")

    assert headers == {
        "X-Auth-Apikey": "key",
        "X-Auth-Nonce": "1700000000000",
        "X-Auth-Signature": KNOWN_SIGNATURE,
    }


def test_nonce_is_server_time_in_ms_with_offset() -> None:
    clock = VirtualClock(start=1_700_000_000.0)
    nonces = NonceSource(clock)
    nonces.set_offset(2.5)

    nonce = nonces.next()

    assert nonce == "1700000002500"


async def test_nonces_strictly_increase_within_a_millisecond_and_after_offset_drops() -> None:
    clock = VirtualClock(start=1_700_000_000.0)
    nonces = NonceSource(clock)

    first = [int(nonces.next()) for _ in range(5)]
    nonces.set_offset(-10.0)  # server turns out to be behind: never go backwards
    later = int(nonces.next())
    await clock.advance(20)
    after = int(nonces.next())

    assert first == sorted(set(first))
    assert first[0] == 1_700_000_000_000
    assert later > first[-1]
    assert after == 1_700_000_010_000
