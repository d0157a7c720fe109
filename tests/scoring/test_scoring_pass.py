"""Classification, measurements and the priority score."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from bot.domain.balances import BalanceScore, Classification
from bot.domain.market import BookLevel, MarketState, OrderBook
from bot.prioritisation.scoring import (
    ScoreWeights,
    prioritise,
    range_volatility_bps_per_hour,
    volatility_bps_per_hour,
    with_market_facts,
)
from tests.fakes.market_builders import (
    D,
    balance,
    liquid_market,
    make_book,
    make_market,
    make_snapshot,
    make_ticker,
)

WEIGHTS = ScoreWeights()


def by_currency(scores: list[BalanceScore]) -> dict[str, BalanceScore]:
    return {s.currency: s for s in scores}


def test_every_balance_gets_one_classification() -> None:
    ok, ok_book, ok_ticker, _ = liquid_market("ok")
    off = make_market("off", state=MarketState.DISABLED)
    tiny = make_market("tiny", min_amount="10")
    cheap = make_market("cheap", min_value="5")
    books = [ok_book, make_book(tiny.id), make_book(cheap.id)]
    snapshot = make_snapshot(
        [
            balance("ok", "50"),
            balance("BTC", "1"),
            balance("usdt", "100"),
            balance("zzz", "5"),
            balance("off", "5"),
            balance("tiny", "9"),
            balance("cheap", "4"),
        ],
        [ok, off, tiny, cheap],
        books=books,
        tickers=[ok_ticker],
        excluded=frozenset({"btc"}),
    )

    scores = by_currency(prioritise(snapshot, weights=WEIGHTS, min_value=D(1)))

    assert {c: s.classification for c, s in scores.items()} == {
        "ok": Classification.SELL,
        "btc": Classification.EXCLUDED,
        "usdt": Classification.EXCLUDED,
        "zzz": Classification.NO_MARKET,
        "off": Classification.MARKET_DISABLED,
        "tiny": Classification.DUST,
        "cheap": Classification.DUST,
    }
    assert "minimum 10" in scores["tiny"].reason
    assert "minimum 5" in scores["cheap"].reason


def test_value_below_configured_minimum_is_dust_and_still_reported() -> None:
    market, book, ticker, _ = liquid_market("abc")
    snapshot = make_snapshot([balance("abc", "3")], [market], books=[book], tickers=[ticker])

    [score] = prioritise(snapshot, weights=WEIGHTS, min_value=D(10))

    assert score.classification is Classification.DUST
    assert score.value_quote > 0
    assert score.components["value_quote"] == str(score.value_quote)


def test_value_is_taken_at_the_best_bid_not_the_last_price() -> None:
    market = make_market("abc")
    book = OrderBook(market.id, (BookLevel(D("0.9"), D(1000)),), (BookLevel(D("1.1"), D(5)),))
    ticker = make_ticker(market.id, last="2")
    snapshot = make_snapshot([balance("abc", "10")], [market], books=[book], tickers=[ticker])

    [score] = prioritise(snapshot, weights=WEIGHTS, min_value=D(1))

    assert score.value_quote == D("9.0")
    assert score.metrics is not None
    assert score.metrics.spread_bps == D(2000)


def test_depths_within_one_and_five_percent_of_mid() -> None:
    market = make_market("abc")
    bids = (BookLevel(D("0.995"), D(10)), BookLevel(D("0.98"), D(10)), BookLevel(D("0.90"), D(10)))
    book = OrderBook(market.id, bids, (BookLevel(D("1.005"), D(10)),))
    snapshot = make_snapshot([balance("abc", "10")], [market], books=[book])

    [score] = prioritise(snapshot, weights=WEIGHTS, min_value=D(1))

    assert score.metrics is not None
    assert score.metrics.mid == D(1)
    assert score.metrics.depth_1pct_quote == D("9.950")
    assert score.metrics.depth_5pct_quote == D("9.950") + D("9.80")
    assert score.components["book_fraction"] == f"{9.95 / 19.75:.4f}"


def test_components_explain_the_score() -> None:
    market, book, ticker, vol = liquid_market("abc")
    snapshot = make_snapshot(
        [balance("abc", "500")],
        [market],
        books=[book],
        tickers=[ticker],
        volatility={market.id: vol},
    )

    [score] = prioritise(snapshot, weights=WEIGHTS, min_value=D(1))

    terms = [D(v) for k, v in score.components.items() if k.startswith("term_")]
    assert len(terms) == 4
    assert abs(sum(terms) - score.score) <= D("0.0003")
    for key in (
        "value_quote",
        "spread_bps",
        "depth_1pct_quote",
        "depth_5pct_quote",
        "volume_24h_quote",
        "volatility_bps_per_hour",
        "book_fraction",
    ):
        assert score.components[key] not in ("", "unknown"), key


def test_sell_first_then_by_score_and_more_value_ranks_higher() -> None:
    a, a_book, a_ticker, _ = liquid_market("aaa")
    b, b_book, b_ticker, _ = liquid_market("bbb")
    snapshot = make_snapshot(
        [balance("zzz", "1"), balance("aaa", "20"), balance("bbb", "200")],
        [a, b],
        books=[a_book, b_book],
        tickers=[a_ticker, b_ticker],
    )

    scores = prioritise(snapshot, weights=WEIGHTS, min_value=D(1))

    assert [s.currency for s in scores] == ["bbb", "aaa", "zzz"]
    assert scores[0].score > scores[1].score


def test_wider_spread_lowers_the_score() -> None:
    tight, tight_book, _, _ = liquid_market("tight", spread_bps="10")
    wide, wide_book, _, _ = liquid_market("wide", spread_bps="300")
    snapshot = make_snapshot(
        [balance("tight", "50"), balance("wide", "50")],
        [tight, wide],
        books=[tight_book, wide_book],
    )

    scores = by_currency(prioritise(snapshot, weights=WEIGHTS, min_value=D(1)))

    assert scores["tight"].score > scores["wide"].score
    assert D(scores["wide"].components["term_spread"]) < D(
        scores["tight"].components["term_spread"]
    )


def test_weights_are_configurable() -> None:
    small, small_book, _, _ = liquid_market("small", amount="100000")
    big, big_book, _, _ = liquid_market("big", amount="10")
    snapshot = make_snapshot(
        [balance("small", "10"), balance("big", "150")],
        [small, big],
        books=[small_book, big_book],
    )
    only_value = ScoreWeights(value=D(1), liquidity=D(0), volatility=D(0), spread=D(0))
    only_liquidity = ScoreWeights(value=D(0), liquidity=D(1), volatility=D(0), spread=D(0))

    by_value = prioritise(snapshot, weights=only_value, min_value=D(1))
    by_liquidity = prioritise(snapshot, weights=only_liquidity, min_value=D(1))

    assert [s.currency for s in by_value] == ["big", "small"]
    assert [s.currency for s in by_liquidity] == ["small", "big"]


def test_market_without_bids_is_no_market() -> None:
    market = make_market("abc")
    book = OrderBook(market.id, (), (BookLevel(D("1.1"), D(5)),))
    snapshot = make_snapshot([balance("abc", "10")], [market], books=[book])

    [score] = prioritise(snapshot, weights=WEIGHTS, min_value=D(1))

    assert score.classification is Classification.NO_MARKET
    assert score.reason == "no bid to sell into"


def test_candidate_without_book_is_scored_from_the_ticker_bid() -> None:
    market = make_market("abc")
    ticker = make_ticker(market.id, last="5", bid="0.99", ask="1.01")
    snapshot = make_snapshot([balance("abc", "10")], [market], tickers=[ticker])

    [score] = prioritise(snapshot, weights=WEIGHTS, min_value=D(1))

    assert score.classification is Classification.SELL
    assert score.value_quote == D("9.90")
    assert score.components["depth_5pct_quote"] == "unknown"
    assert score.components["spread_bps"] == "200.0000"


def test_precomputed_market_facts_give_the_same_scores() -> None:
    market, book, ticker, vol = liquid_market("abc", spread_bps="35")
    raw = make_snapshot(
        [balance("abc", "123")],
        [market],
        books=[book],
        tickers=[ticker],
        volatility={market.id: vol},
    )

    fresh = prioritise(raw, weights=WEIGHTS, min_value=D(1))
    cached = prioritise(with_market_facts(raw), weights=WEIGHTS, min_value=D(1))

    assert fresh == cached
    assert with_market_facts(raw).facts.keys() == {market.id}


def test_prioritise_is_pure() -> None:
    market, book, ticker, _ = liquid_market("abc")
    snapshot = make_snapshot([balance("abc", "10")], [market], books=[book], tickers=[ticker])
    before = replace(snapshot)

    first = prioritise(snapshot, weights=WEIGHTS, min_value=D(1))
    second = prioritise(snapshot, weights=WEIGHTS, min_value=D(1))

    assert first == second
    assert snapshot == before


def test_volatility_from_closes_is_per_hour_in_bps() -> None:
    # returns +1% and -0.990099%: sample stdev 1.40721%, per minute → × √60 per hour
    vol = volatility_bps_per_hour([D(100), D(101), D(100)], period_min=1)

    assert vol is not None
    assert vol == pytest.approx(D("1090.02"), abs=D("0.05"))
    assert volatility_bps_per_hour([D(100), D(101)], period_min=1) is None
    assert volatility_bps_per_hour([D(100)] * 10, period_min=5) == 0


def test_range_volatility_from_ticker_high_low() -> None:
    ticker = make_ticker("abcusdt", high="1.1", low="1.0")

    vol = range_volatility_bps_per_hour(ticker)

    assert vol == pytest.approx(D("116.84"), abs=D("0.05"))
    assert range_volatility_bps_per_hour(make_ticker("x", high="1", low="0")) is None


def test_negative_or_zero_amount_is_dust() -> None:
    market, book, ticker, _ = liquid_market("abc")
    snapshot = make_snapshot([balance("abc", "0")], [market], books=[book], tickers=[ticker])

    [score] = prioritise(snapshot, weights=WEIGHTS, min_value=Decimal(0))

    assert score.classification is Classification.DUST
    assert score.reason == "nothing available"
