import io
import json
import logging

from bot.logs import MASK, configure_logging, get_logger


def test_secret_logged_by_accident_comes_out_masked() -> None:
    out = io.StringIO()
    configure_logging(fmt="json", level="INFO", secrets=["s3cr3t-value-xyz"], stream=out)

    get_logger("t").info(
        "request_sent",
        headers={"X-Auth-Apikey": "key-abc", "X-Auth-Signature": "f00d"},
        note="oops the secret is s3cr3t-value-xyz",
    )
    logging.getLogger("aiohttp.client").warning("X-Auth-Signature: deadbeef s3cr3t-value-xyz")

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    text = out.getvalue()
    assert "s3cr3t-value-xyz" not in text
    assert "deadbeef" not in text
    assert "f00d" not in text
    assert lines[0]["headers"]["X-Auth-Apikey"] == MASK
    assert lines[1]["logger"] == "aiohttp.client"


def test_console_format_is_readable_and_context_is_bound() -> None:
    import structlog

    out = io.StringIO()
    configure_logging(fmt="console", level="INFO", stream=out)

    with structlog.contextvars.bound_contextvars(cycle_id="c1"):
        get_logger("t").info("cycle_started", balances=3)

    assert "cycle_started" in out.getvalue()
    assert "cycle_id=c1" in out.getvalue()
