"""Render the scored balances and the decision each would get (``sellbot advise --simulate``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from bot.advisor.port import Advice, AdviceContext, Advisor
from bot.domain.balances import BalanceScore, Classification
from bot.domain.decisions import Decision, StrategyName
from bot.prioritisation.scoring import MarketSnapshot

_COLUMNS = (
    ("currency", "<"),
    ("class", "<"),
    ("amount", ">"),
    ("value", ">"),
    ("score", ">"),
    ("spread_bps", ">"),
    ("depth5%", ">"),
    ("book%", ">"),
    ("vol_bps/h", ">"),
    ("strategy", "<"),
    ("params", "<"),
    ("by", "<"),
    ("why", "<"),
)
_MAX_WHY = 60


async def advise_sellable(
    advisor: Advisor, scores: Iterable[BalanceScore], snapshot: MarketSnapshot
) -> dict[str, Advice]:
    """Ask ``advisor`` about every ``sell`` balance, in priority order; key by currency."""
    advices: dict[str, Advice] = {}
    for score in scores:
        if score.classification is Classification.SELL:
            ctx = AdviceContext.from_snapshot(score, snapshot)
            advices[score.currency] = await advisor.advise(ctx)
    return advices


def format_advice_table(scores: Sequence[BalanceScore], advices: Mapping[str, Advice]) -> str:
    """Return a fixed-width text table: one row per balance, with its decision if any."""
    rows = [_row(s, advices.get(s.currency)) for s in scores]
    header = tuple(name for name, _ in _COLUMNS)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(_COLUMNS))]
    lines = [_line(header, widths), _line(tuple("-" * w for w in widths), widths)]
    lines += [_line(r, widths) for r in rows]
    sells = sum(1 for s in scores if s.classification is Classification.SELL)
    fallbacks = sum(1 for a in advices.values() if a.fallback)
    lines.append(f"{len(scores)} balances, {sells} to sell, {fallbacks} LLM fallbacks")
    return "\n".join(lines)


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    parts = [f"{c:{align}{w}}" for c, (_, align), w in zip(cells, _COLUMNS, widths, strict=True)]
    return "  ".join(parts).rstrip()


def _row(score: BalanceScore, advice: Advice | None) -> tuple[str, ...]:
    c = score.components
    fraction = c.get("book_fraction")
    book_pct = _num(Decimal(fraction) * 100, 1) if fraction not in (None, "unknown") else "-"
    sell = score.classification is Classification.SELL
    decision = advice.decision if advice is not None else None
    return (
        score.currency,
        str(score.classification),
        _num(score.amount, 8),
        _num(score.value_quote, 2) if score.value_quote else "-",
        _num(score.score, 2) if sell else "-",
        _cell(c.get("spread_bps"), 1),
        _cell(c.get("depth_5pct_quote"), 0),
        book_pct,
        _cell(c.get("volatility_bps_per_hour"), 0),
        str(decision.strategy) if decision else "-",
        _params(decision) if decision else "-",
        _by(advice) if advice else "-",
        _why(score, advice),
    )


def _params(d: Decision) -> str:
    if d.strategy is StrategyName.MARKET:
        return f"slip<={_num(d.max_slippage_bps, 0)}bps"
    parts = [f"{d.horizon_s}s"]
    if d.slices > 1:
        parts.append(f"{d.slices}x every {d.horizon_s // d.slices}s")
    if d.strategy in (StrategyName.LIMIT, StrategyName.ICEBERG, StrategyName.ADAPTIVE):
        parts.append(f"+{_num(d.limit_offset_bps, 1)}bps")
    if d.strategy is StrategyName.ICEBERG:
        parts.append(f"show {_num(d.display_frac * 100, 1)}%")
    return " ".join(parts)


def _by(advice: Advice) -> str:
    if advice.memo_hit:
        return f"{advice.advisor} (memo)"
    if advice.fallback:
        return f"rules ({advice.fallback_reason})"
    return advice.advisor


def _why(score: BalanceScore, advice: Advice | None) -> str:
    text = advice.decision.reason if advice is not None else score.reason
    return text if len(text) <= _MAX_WHY else text[: _MAX_WHY - 1] + "…"


def _cell(text: str | None, places: int) -> str:
    if text is None or text == "unknown":
        return "-"
    return _num(Decimal(text), places)


def _num(value: Decimal, places: int) -> str:
    # Grouped thousands, fixed places, trailing zeros of the fraction dropped
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
