import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import aiohttp

from bot.clock import VirtualClock
from bot.domain.decisions import Decision, StrategyName
from bot.domain.executions import Execution, ExecutionState
from bot.execution.limiter import ConcurrencyLimiter
from bot.execution.supervisor import ExecutionSupervisor
from bot.metrics import Metrics, record_finished
from bot.service.jobs import guarded
from bot.service.ops_http import OpsServer, ReadinessChecks, create_ops_app

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _execution(eid: str, market: str, state: ExecutionState = ExecutionState.QUEUED) -> Execution:
    return Execution(
        id=eid,
        market=market,
        currency=market[:3],
        allocated=Decimal(1),
        decision=Decision(strategy=StrategyName.TWAP, horizon_s=60),
        state=state,
        created_at=AT,
        arrival_mid=Decimal(100),
        sold=Decimal(1),
        proceeds=Decimal(99),
    )


async def test_metrics_endpoint_is_scraped_in_prometheus_format() -> None:
    metrics = Metrics()
    record_finished(metrics, _execution("e1", "btcusdt", ExecutionState.COMPLETED))

    async def ok() -> bool:
        return True

    async def down() -> bool:
        raise ConnectionError("exchange down")

    server = OpsServer(
        create_ops_app(
            metrics, ReadinessChecks(database=ok, exchange=down, scheduler=lambda: True)
        ),
        host="127.0.0.1",
        port=0,
    )
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{server.port}"
            async with http.get(f"{base}/metrics") as resp:
                text = await resp.text()
                metrics_status = resp.status
            async with http.get(f"{base}/healthz") as resp:
                health = resp.status
            async with http.get(f"{base}/readyz") as resp:
                ready_status, ready = resp.status, await resp.json()
    finally:
        await server.stop()

    assert metrics_status == 200
    assert 'sellbot_executions_total{outcome="completed",strategy="twap"} 1.0' in text
    assert 'sellbot_shortfall_bps_bucket{le="100.0",strategy="twap"} 1.0' in text
    assert "# TYPE sellbot_exchange_request_seconds histogram" in text
    assert health == 200
    assert ready_status == 503
    assert ready == {"ready": False, "database": True, "exchange": False, "scheduler": True}


async def test_a_job_that_raises_is_logged_and_counted_not_propagated() -> None:
    metrics = Metrics()

    async def broken() -> None:
        raise RuntimeError("boom")

    await guarded("prioritise", broken, metrics)()

    assert metrics.job_errors.get(job="prioritise") == 1


async def test_supervisor_runs_one_per_market_and_drains() -> None:
    clock = VirtualClock()
    limiter = ConcurrencyLimiter(2)
    concurrent: list[int] = []
    running: set[str] = set()
    finished: list[str] = []

    async def run(execution: Execution) -> Execution:
        running.add(execution.id)
        concurrent.append(len(running))
        await clock.sleep(10)
        running.discard(execution.id)
        return execution

    supervisor = ExecutionSupervisor(limiter, run, on_finish=lambda e: finished.append(e.id))
    for eid, market in (("a", "btcusdt"), ("b", "btcusdt"), ("c", "ethusdt"), ("d", "xrpusdt")):
        assert supervisor.submit(_execution(eid, market))
    assert not supervisor.submit(_execution("a", "btcusdt"))

    await clock.run(supervisor.wait_all())

    assert sorted(finished) == ["a", "b", "c", "d"]
    assert max(concurrent) == 2


async def test_supervisor_stop_cancels_running_and_refuses_new() -> None:
    limiter = ConcurrencyLimiter(1)
    started = asyncio.Event()

    async def run(execution: Execution) -> Execution:
        started.set()
        await asyncio.Event().wait()
        return execution

    supervisor = ExecutionSupervisor(limiter, run)
    supervisor.submit(_execution("a", "btcusdt"))
    await started.wait()

    interrupted = await supervisor.stop(timeout_s=1)

    assert interrupted == {"a"}
    assert not supervisor.submit(_execution("b", "ethusdt"))
    assert supervisor.active_ids == set()


async def test_supervisor_remembers_a_crashed_execution_until_it_is_resubmitted() -> None:
    clock = VirtualClock(start=1_000.0)
    attempts: list[str] = []

    async def run(execution: Execution) -> Execution:
        attempts.append(execution.id)
        if len(attempts) == 1:
            raise RuntimeError("database is locked")
        return execution

    supervisor = ExecutionSupervisor(ConcurrencyLimiter(1), run, now=clock.monotonic)
    supervisor.submit(_execution("a", "btcusdt"))
    await supervisor.wait_all()

    assert supervisor.crashed == {"a": clock.monotonic()}

    assert supervisor.submit(_execution("a", "btcusdt"))
    await supervisor.wait_all()

    assert supervisor.crashed == {}
    assert attempts == ["a", "a"]


async def test_supervisor_keeps_no_finished_task() -> None:
    async def run(execution: Execution) -> Execution:
        return execution

    supervisor = ExecutionSupervisor(ConcurrencyLimiter(2), run)
    for eid in ("a", "b", "c"):
        supervisor.submit(_execution(eid, f"{eid}usdt"))
    await supervisor.wait_all()

    assert supervisor.tracked == 0
    assert supervisor.active_markets() == set()
