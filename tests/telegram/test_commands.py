"""Each command over real HTTP: the fake Bot API delivers it, the reply is what comes back."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import ControlRow, EventRow
from bot.db.repositories import ControlRepository
from tests.telegram.conftest import OPERATOR, Chat
from tests.telegram.seed import seed_all


async def _audit(chat: Chat) -> list[EventRow]:
    async with chat.sessions() as session:
        rows = await session.scalars(select(EventRow).order_by(EventRow.id))
        return list(rows)


async def test_status_shows_kill_switch_running_sales_and_open_orders(chat: Chat) -> None:
    await seed_all(chat.sessions, chat.clock.now())

    sent = await chat.ask("/status")

    assert sent.parse_mode == "HTML"
    assert "kill switch: off" in sent.text
    assert "leader: none" in sent.text
    running, orders = sent.text.split("open orders")
    assert "e-run" in running
    assert "e-done" not in sent.text  # finished: /history's
    assert "e-run-1" in orders
    assert "130100" in orders


async def test_history_lists_finished_sales_only(chat: Chat) -> None:
    await seed_all(chat.sessions, chat.clock.now())

    sent = await chat.ask("/history")

    assert "e-done" in sent.text
    assert "259.9" in sent.text  # proceeds
    assert "completed" in sent.text
    assert "e-run" not in sent.text


async def test_balances_shows_the_newest_cycle_with_its_decisions(chat: Chat) -> None:
    sent = await chat.ask("/balances")
    assert sent.text == "no cycle has scored the balances yet"

    await seed_all(chat.sessions, chat.clock.now())
    sent = await chat.ask("/balances")

    assert sent.text.startswith("cycle c-new, 3m ago: 2 balance(s) worth 260.9 usdt")
    lines = sent.text.splitlines()
    btc = next(line for line in lines if line.startswith("btc"))
    assert btc.split() == ["btc", "0.002", "260.5", "sellable", "0.812", "twap"]
    doge = next(line for line in lines if line.startswith("doge"))
    assert doge.removesuffix("</pre>").split()[-1] == "-"  # no decision: dust is not sold
    assert "eth" not in sent.text  # the older cycle


async def test_pause_sets_the_kill_switch_the_daemon_reads_and_resume_clears_it(
    chat: Chat,
) -> None:
    await seed_all(chat.sessions, chat.clock.now())
    controls = ControlRepository(chat.sessions)

    sent = await chat.ask("/pause")

    assert sent.text.startswith("paused: no new orders will be placed")
    assert "1 open order(s) stay on the book" in sent.text
    assert await controls.is_paused()
    assert "kill switch: PAUSED" in (await chat.ask("/status")).text

    sent = await chat.ask("/resume")

    assert sent.text.startswith("resumed")
    assert not await controls.is_paused()


async def test_cancel_writes_the_request_the_cli_writes(chat: Chat) -> None:
    await seed_all(chat.sessions, chat.clock.now())

    sent = await chat.ask("/cancel e-run")

    assert "cancel requested for e-run" in sent.text
    assert await ControlRepository(chat.sessions).get("cancel:e-run") == "requested"


async def test_cancel_of_an_unknown_or_ended_sale_answers_why_and_requests_nothing(
    chat: Chat,
) -> None:
    await seed_all(chat.sessions, chat.clock.now())

    unknown = await chat.ask("/cancel e-nope")
    ended = await chat.ask("/cancel e-done")
    bare = await chat.ask("/cancel")

    assert unknown.text == "no execution 'e-nope'"
    assert "e-done already ended (completed)" in ended.text
    assert bare.text.startswith("usage: /cancel")
    async with chat.sessions() as session:
        keys = (await session.scalars(select(ControlRow.key))).all()
    assert not [k for k in keys if k.startswith("cancel:")]


async def test_an_edited_command_is_not_run_again(chat: Chat) -> None:
    await chat.fake.say(OPERATOR, "/pause", edited=True)

    sent = await chat.ask("/status")

    assert "kill switch: off" in sent.text
    assert chat.fake.sent == []  # nothing but the /status reply, already taken
    assert not await ControlRepository(chat.sessions).is_paused()


async def test_unknown_commands_get_the_help(chat: Chat) -> None:
    sent = await chat.ask("/sell_all now")

    assert sent.text.startswith("unknown command")
    assert "/cancel &lt;execution&gt;" in sent.text


async def test_every_command_is_audited_with_chat_outcome_and_execution(chat: Chat) -> None:
    await seed_all(chat.sessions, chat.clock.now())

    for text in ("/status", "/pause", "/resume", "/cancel e-run", "/cancel e-nope", "/frobnicate"):
        await chat.ask(text)

    audit = [e for e in await _audit(chat) if e.kind == "telegram_command"]
    assert [(e.data["command"], e.data["outcome"]) for e in audit] == [
        ("status", "ok"),
        ("pause", "ok"),
        ("resume", "ok"),
        ("cancel", "ok"),
        ("cancel", "unknown_execution"),
        ("frobnicate", "unknown_command"),
    ]
    assert {e.data["chat_id"] for e in audit} == {OPERATOR}
    assert audit[3].execution_id == "e-run"
    assert audit[3].data["args"] == ["e-run"]
    assert audit[0].at.replace(tzinfo=None) == chat.clock.now().replace(tzinfo=None)
