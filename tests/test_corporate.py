"""Corporate client value: the CDNOW reproduction of BG/NBD and Gamma-Gamma, hand-checkable model
cases, and corporate RFM, CLV, social value and the payment neighbourhood on the demo snapshot."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL
from scipy import special

from analytics import corporate, rfm
from analytics.access import AccessDenied, Scope
from analytics.settings import load_settings
from analytics.store import open_warehouse

DATA = Path(__file__).resolve().parent / "data"
HEAD = Scope("head_office", viewer_id="t:ho")
B001 = Scope("manager", ("B001",), viewer_id="t:b001")
B002 = Scope("manager", ("B002",), viewer_id="t:b002")
# Fader, Hardie & Lee (2005), CDNOW, 39-week calibration period.
BGNBD_CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
# Fader & Hardie (2013), the 946 CDNOW repeat buyers.
GG_CDNOW = {"p": 6.25, "q": 3.74, "v": 15.44}


def _close(got: float, want: float, rel: float = 0.01) -> bool:
    return abs(got - want) <= rel * abs(want)


@pytest.fixture(scope="module")
def wh(demo_db_path):
    db = open_warehouse(demo_db_path)
    yield db
    db.close()


@pytest.fixture()
def patched_settings(monkeypatch):
    """A deep copy of the settings that a test may change; analytics.corporate reads it."""
    settings = copy.deepcopy(load_settings())
    monkeypatch.setattr(corporate, "load_settings", lambda: settings)
    return settings


# ---------------------------------------------------------------------------- CDNOW reproduction


def test_bgnbd_reproduces_cdnow():
    df = pd.read_csv(DATA / "cdnow_customers_summary.csv")
    assert len(df) == 2357
    fit = corporate.fit_bgnbd(df["frequency"], df["recency"], df["T"])
    for key, want in BGNBD_CDNOW.items():
        assert _close(fit[key], want), (key, fit[key], want)
    # The paper's worked example (customer 1: x = 2, t_x = 30.43, T = 38.86): 1.226 expected
    # transactions in the next 39 weeks.
    assert _close(float(corporate.expected_transactions(fit, 39, 2, 30.43, 38.86)), 1.226)


def test_gamma_gamma_reproduces_cdnow():
    df = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    assert int((df["x"] > 0).sum()) == 946
    fit = corporate.fit_gamma_gamma(df["x"], df["zbar"])
    for key, want in GG_CDNOW.items():
        assert _close(fit[key], want), (key, fit[key], want)


def test_expected_transactions_matches_textbook_formula_on_cdnow():
    """Euler's transformation gives the same numbers as BG/NBD eq. 10 as printed."""
    df = pd.read_csv(DATA / "cdnow_customers_summary.csv")
    x, t_x, big_t = (df[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    r, alpha, a, b = BGNBD_CDNOW.values()
    t = 39.0
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
    head = (
        (a + b + x - 1) / (a - 1) * (1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp)
    )
    odds = np.where(
        x > 0, a / np.maximum(b + x - 1, 1e-12) * ((alpha + big_t) / (alpha + t_x)) ** (r + x), 0
    )
    textbook = head / (1 + odds)
    got = corporate.expected_transactions(BGNBD_CDNOW, t, x, t_x, big_t)
    np.testing.assert_allclose(got, textbook, rtol=1e-9)


# ---------------------------------------------------------------------------- small cases


def test_probability_alive_closed_form_by_hand():
    r, alpha, a, b = BGNBD_CDNOW.values()
    x, t_x, big_t = 2, 30.43, 38.86
    by_hand = 1 / (1 + a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x))
    got = float(corporate.probability_alive(BGNBD_CDNOW, x, t_x, big_t))
    assert got == pytest.approx(by_hand, rel=1e-12)
    assert got == pytest.approx(0.7266, abs=5e-5)  # the number itself, worked out on paper


def test_one_time_buyer_is_alive_and_expects_little():
    p = BGNBD_CDNOW
    assert float(corporate.probability_alive(p, 0, 0, 38.86)) == 1.0
    one_time = float(corporate.expected_transactions(p, 39, 0, 0, 38.86))
    repeat_recent = float(corporate.expected_transactions(p, 39, 5, 38, 38.86))
    assert 0 < one_time < repeat_recent
    # with x = 0 eq. 10 reduces to (a+b-1)/(a-1) [1 - ((α+T)/(α+T+t))^r 2F1(r, b; a+b-1; z)]
    z = 39 / (p["alpha"] + 38.86 + 39)
    by_hand = (
        (p["a"] + p["b"] - 1)
        / (p["a"] - 1)
        * (
            1
            - ((p["alpha"] + 38.86) / (p["alpha"] + 38.86 + 39)) ** p["r"]
            * special.hyp2f1(p["r"], p["b"], p["a"] + p["b"] - 1, z)
        )
    )
    assert one_time == pytest.approx(by_hand, rel=1e-10)


def test_frequent_recent_buyer_expects_more_and_gaps_lower_p_alive():
    p = BGNBD_CDNOW
    frequent = float(corporate.expected_transactions(p, 52, 20, 38, 39))
    infrequent = float(corporate.expected_transactions(p, 52, 2, 38, 39))
    assert frequent > infrequent > 0
    recent = float(corporate.probability_alive(p, 5, 38, 39))
    long_gap = float(corporate.probability_alive(p, 5, 10, 39))
    assert 0 < long_gap < recent <= 1
    # more history at the same gap only makes a long silence more telling
    assert float(corporate.probability_alive(p, 10, 10, 39)) < long_gap


def test_expected_transactions_grows_with_the_horizon():
    t = np.array([0.0, 4, 13, 26, 52])
    e = corporate.expected_transactions(BGNBD_CDNOW, t, 3, 20, 39)
    assert e[0] == 0 and np.all(np.diff(e) > 0)


def test_expected_average_value_moves_from_population_mean_to_observed():
    p, q, v = GG_CDNOW.values()
    population = p * v / (q - 1)
    assert float(corporate.expected_average_value(GG_CDNOW, 0, np.nan)) == pytest.approx(population)
    observed = 60.0
    xs = np.array([1, 2, 5, 20, 200])
    e = corporate.expected_average_value(GG_CDNOW, xs, observed)
    assert np.all(np.diff(np.abs(e - observed)) < 0)  # closer with every extra transaction
    assert np.all((population < e) & (e < observed))
    # by hand for x = 2: p (v + 2 z) / (2p + q - 1)
    assert e[1] == pytest.approx(p * (v + 2 * observed) / (2 * p + q - 1))
    # undefined where p x + q - 1 <= 0 (only with q <= 1)
    assert np.isnan(corporate.expected_average_value({"p": 1, "q": 0.5, "v": 1}, 0, 5.0))


def test_fits_refuse_bad_input():
    with pytest.raises(ValueError):
        corporate.fit_bgnbd([1, 2], [5, 50], [10, 40])  # recency > T
    with pytest.raises(ValueError):
        corporate.fit_bgnbd([], [], [])
    with pytest.raises(ValueError):
        corporate.fit_gamma_gamma([0, 0], [0, 0])  # nobody with frequency > 0


# ---------------------------------------------------------------------------- corporate RFM


def test_corporate_rfm_reuses_rfm_scores(wh, monkeypatch):
    calls = []
    real = rfm.rfm_scores

    def spy(df, *args, **kw):
        calls.append((args, kw))
        return real(df, *args, **kw)

    monkeypatch.setattr(corporate, "rfm_scores", spy)
    out = corporate.corporate_rfm(wh, HEAD)
    assert calls == [
        (("recency_days", "frequency", "monetary"), {"key": "corp_id", "by": "branch_id"})
    ]
    assert list(out.columns) == corporate.RFM_COLUMNS
    assert len(out) == SMALL["corporates"] and set(out["segment"]) <= set(rfm.SEGMENTS)
    assert len(set(out["segment"])) >= 4
    # the scores are rfm_scores' on the same numbers, per branch
    again = real(
        out[corporate.RFM_COLUMNS[:10]],
        "recency_days",
        "frequency",
        "monetary",
        key="corp_id",
        by="branch_id",
    )
    pd.testing.assert_frame_equal(out, again[corporate.RFM_COLUMNS])


def test_corporate_rfm_numbers_by_hand(wh):
    out = corporate.corporate_rfm(wh, HEAD).set_index("corp_id")
    txn = wh.query("SELECT payer_id, payee_id, txn_date FROM corp_transactions")
    acc = wh.query("SELECT * FROM corp_accounts").set_index("corp_id")
    as_of = pd.Timestamp("2026-10-31")
    start = as_of - pd.DateOffset(months=12)
    for corp_id in out.index[:15]:
        rows = txn[(txn["payer_id"] == corp_id) | (txn["payee_id"] == corp_id)]
        rows = rows[
            (pd.to_datetime(rows["txn_date"]) > start) & (pd.to_datetime(rows["txn_date"]) <= as_of)
        ]
        want_r = (
            (as_of - pd.to_datetime(rows["txn_date"]).max()).days
            if len(rows)
            else (as_of - start).days + 1
        )
        assert out.loc[corp_id, "recency_days"] == want_r
        assert out.loc[corp_id, "frequency"] == pytest.approx(len(rows) / 12)
        a = acc.loc[corp_id]
        want_m = float(a["avg_daily_deposit"] + a["loan_interest_12m"] + a["fee_income_12m"])
        assert out.loc[corp_id, "monetary"] == pytest.approx(want_m)


def test_corporate_rfm_scope(wh):
    head = corporate.corporate_rfm(wh, HEAD).set_index("corp_id")
    b002 = corporate.corporate_rfm(wh, B002)
    assert len(b002) == SMALL["corporates"] // 2 and set(b002["branch_id"]) == {"B002"}
    rm_id = b002["rm_id"].dropna().iloc[0]
    mine = corporate.corporate_rfm(wh, Scope("rm", ("B002",), rm_id=rm_id))
    assert len(mine) > 0 and set(mine["rm_id"]) == {rm_id}
    # scored against the whole branch: the same scores whoever looks
    for frame in (b002, mine):
        cols = ["r_score", "f_score", "m_score", "segment"]
        pd.testing.assert_frame_equal(
            frame.set_index("corp_id")[cols], head.loc[frame["corp_id"], cols]
        )
    nobody = corporate.corporate_rfm(wh, Scope("rm", ("B001",), rm_id="R9999"))
    assert nobody.empty and list(nobody.columns) == corporate.RFM_COLUMNS


# ---------------------------------------------------------------------------- CLV


@pytest.fixture(scope="module")
def clv_head(wh):
    return corporate.corporate_clv(wh, HEAD)


def test_clv_columns_and_arithmetic(clv_head):
    df = clv_head
    c = load_settings()["corporate"]
    assert list(df.columns) == corporate.CLV_COLUMNS and len(df) == SMALL["corporates"]
    gross = df["gross_profit_12m"]
    assert (df["profit_12m"] - (gross - c["cost_to_serve_per_year"])).abs().max() < 0.011
    assert (
        df["clv"]
        - (df["profit_12m"] + df["future_profit_discounted"] - df["future_cost_discounted"])
    ).abs().max() < 0.011
    has = df["settlement_days"] > 0
    assert has.sum() > 100
    h = df[has]
    assert ((h["p_alive"] > 0) & (h["p_alive"] <= 1)).all()
    assert (h["frequency"] == h["settlement_days"] - 1).all()
    assert (h["recency_weeks"] <= h["T_weeks"]).all()
    assert (h["future_profit_discounted"] <= h["future_profit"] + 0.01).all()
    # 8% a year over at most a year (0 = 0 for a company the model sees as gone)
    assert (h["future_profit_discounted"] >= 0.9 * h["future_profit"] - 0.011).all()  # fen
    assert (h["future_profit_discounted"] > 0).mean() > 0.5
    none = df[~has]
    assert (none["expected_settlements"] == 0).all() and none["p_alive"].isna().all()
    # monthly discounting of the cost: Σ_m cost/12 × 1.08^(-m/12)
    months = np.arange(1, c["horizon_months"] + 1)
    want = (
        c["cost_to_serve_per_year"] / 12 * np.sum((1 + c["annual_discount_rate"]) ** (-months / 12))
    )
    assert df["future_cost_discounted"].iloc[0] == pytest.approx(want, abs=0.01)
    assert set(df.attrs["models"]) == {"B001", "B002"}


def test_clv_no_settlement_companies_are_counted_and_flagged(wh, clv_head):
    """Issue 13: a company with no settlement in the history window gets a future value of 0 by
    rule and says so (future_value_code); the count is checked by an independent query."""
    months = load_settings()["corporate"]["history_months"]
    want = wh.query(
        """
        WITH a AS (SELECT TRY_CAST(value AS DATE) AS as_of FROM meta WHERE key = 'as_of'),
        seen AS (
            SELECT payer_id AS corp_id FROM corp_transactions, a
            WHERE txn_date > as_of - to_months(?) AND txn_date <= as_of
            UNION SELECT payee_id FROM corp_transactions, a
            WHERE txn_date > as_of - to_months(?) AND txn_date <= as_of)
        SELECT corp_id FROM corp_clients WHERE corp_id NOT IN (SELECT corp_id FROM seen)
        ORDER BY corp_id
        """,
        [months, months],
    )["corp_id"].tolist()
    none = clv_head[clv_head["future_value_code"] == "no_settlement"]
    assert len(want) > 0
    assert sorted(none["corp_id"]) == want
    assert set(clv_head["future_value_code"]) == set(corporate.FUTURE_VALUE_CODES)
    assert (none["future_profit_discounted"] == 0).all() and (none["settlement_days"] == 0).all()
    modelled = clv_head[clv_head["future_value_code"] == "modelled"]
    assert (modelled["settlement_days"] > 0).all()


def test_clv_quadrants_and_matrix(clv_head):
    df = clv_head
    assert set(df["quadrant"]) <= set(corporate.QUADRANTS)
    for _, g in df.groupby("branch_id"):
        assert ((g["current"] == "high") == (g["profit_12m"] >= g["profit_12m"].median())).all()
    matrix = corporate.value_matrix(df)
    assert list(matrix["quadrant"]) == list(corporate.QUADRANTS)
    assert matrix["clients"].sum() == len(df)
    assert matrix["profit_12m"].sum() == pytest.approx(df["profit_12m"].sum(), abs=0.05)
    want = df["quadrant"].value_counts().reindex(list(corporate.QUADRANTS), fill_value=0)
    assert list(matrix["clients"]) == list(want)
    empty = corporate.value_matrix(df.iloc[:0])
    assert list(empty["clients"]) == [0, 0, 0, 0]


def test_clv_scope_and_viewer_independence(wh, clv_head):
    b001 = corporate.corporate_clv(wh, B001)
    assert set(b001["branch_id"]) == {"B001"} and len(b001) == SMALL["corporates"] // 2
    cols = ["clv", "quadrant", "p_alive"]
    pd.testing.assert_frame_equal(
        b001.set_index("corp_id")[cols], clv_head.set_index("corp_id").loc[b001["corp_id"], cols]
    )
    empty = corporate.corporate_clv(wh, Scope("rm", ("B001",), rm_id="R9999"))
    assert empty.empty and list(empty.columns) == corporate.CLV_COLUMNS


def test_clv_refuses_too_few_clients(wh, patched_settings):
    patched_settings["corporate"]["min_clients_for_fit"] = 5000
    with pytest.raises(corporate.ClvFitError) as e:
        corporate.corporate_clv(wh, B001)
    assert e.value.code == "too_few" and e.value.fields["branch"] == "B001"
    assert e.value.fields["min"] == 5000 and 0 < e.value.fields["n"] < 5000
    # the page says it in words, with the numbers, in both languages
    from ui.i18n import EN, ZH

    for table in (EN, ZH):
        text = table["corp.clv_failed.too_few"].format(**e.value.fields)
        assert "B001" in text and "5000" in text and str(e.value.fields["n"]) in text


def test_clv_uses_gamma_gamma_when_it_has_a_mean(wh, monkeypatch):
    monkeypatch.setattr(corporate, "fit_gamma_gamma", lambda x, m: dict(GG_CDNOW))
    df = corporate.corporate_clv(wh, B002)
    h = df[df["settlement_days"] > 0]
    assert set(h["value_model"]) == {"gamma_gamma"}
    want = corporate.expected_average_value(
        GG_CDNOW, h["settlement_days"], h["value_per_settlement"]
    )
    np.testing.assert_allclose(h["expected_value_per_settlement"], want)
    np.testing.assert_allclose(
        h["future_profit"], (h["expected_settlements"] * want).round(2), atol=0.011
    )


# ---------------------------------------------------------------------------- social value


@pytest.fixture(scope="module")
def social_head(wh):
    return corporate.social_value(wh, HEAD)


def test_social_value_columns_and_weights(social_head):
    df = social_head
    w = load_settings()["corporate"]["social"]["weights"]
    assert list(df.columns) == corporate.SOCIAL_COLUMNS and len(df) == SMALL["corporates"]
    assert df["pagerank"].sum() == pytest.approx(1.0)  # head office sees every node
    want = 100 * sum(w[k] * df[f"{k}_pct"] for k in corporate.SOCIAL_FACTORS)
    assert (df["influence"] - want).abs().max() < 0.006
    assert df["influence"].between(0, 100).all()
    assert df["influence"].is_monotonic_decreasing
    for _, g in df.groupby("branch_id"):
        top = g.loc[g["payroll_headcount"].idxmax()]
        assert top["payroll_pct"] == 1.0
        assert g["payroll_pct"].min() == 0.0


def test_social_value_linked_aum_by_hand(wh, social_head):
    corp_id = social_head.loc[social_head["linked_retail_clients"] > 0, "corp_id"].iloc[0]
    want = wh.scalar(
        "SELECT SUM(m.aum)::DOUBLE FROM clients c JOIN client_aum_monthly m USING (client_id) "
        "WHERE c.employer_corp_id = ? AND m.month_end = (SELECT MAX(month_end) FROM client_aum_monthly)",
        [corp_id],
    )
    got = social_head.set_index("corp_id").loc[corp_id, "linked_retail_aum"]
    assert got == pytest.approx(want)


def test_social_value_scope(wh, social_head):
    b002 = corporate.social_value(wh, B002)
    assert set(b002["branch_id"]) == {"B002"} and len(b002) == SMALL["corporates"] // 2
    cols = ["pagerank", "influence"]
    pd.testing.assert_frame_equal(
        b002.set_index("corp_id")[cols], social_head.set_index("corp_id").loc[b002["corp_id"], cols]
    )


def test_pagerank_equals_networkx(wh):
    import networkx as nx

    edges = wh.query(
        "SELECT payer_id, payee_id, SUM(amount)::DOUBLE AS amount FROM corp_transactions GROUP BY ALL"
    )
    nodes = wh.query("SELECT corp_id FROM corp_clients ORDER BY corp_id")["corp_id"].tolist()
    got = corporate.pagerank(nodes, edges["payer_id"], edges["payee_id"], edges["amount"], 0.85)
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_weighted_edges_from(
        zip(edges["payer_id"], edges["payee_id"], edges["amount"], strict=True),
        weight="amount",
    )
    want = nx.pagerank(graph, alpha=0.85, weight="amount")
    np.testing.assert_allclose(got, [want[n] for n in nodes], rtol=1e-9, atol=1e-15)
    # a tiny graph by hand: a -> b -> c, c dangling; b receives from a, c from b
    small = corporate.pagerank(["a", "b", "c"], ["a", "b"], ["b", "c"], [1.0, 1.0], 0.85)
    assert small.sum() == pytest.approx(1.0) and small[0] < small[1] < small[2]
    with pytest.raises(ValueError):
        corporate.pagerank(["a"], ["a"], ["z"], [1.0], 0.85)


def test_social_weights_must_sum_to_one(wh, patched_settings):
    patched_settings["corporate"]["social"]["weights"]["pagerank"] = 0.5
    with pytest.raises(ValueError, match="sum to 1"):
        corporate.social_value(wh, HEAD)


def test_payment_network_touches_the_scope(wh):
    whole = corporate.payment_network(wh, HEAD)
    mine = corporate.payment_network(wh, B002)
    assert list(mine.columns) == corporate.NETWORK_COLUMNS
    assert (mine["payer_in_scope"] | mine["payee_in_scope"]).all()
    assert whole["payer_in_scope"].all() and len(whole) > len(mine)
    assert whole["count"].sum() == wh.scalar("SELECT COUNT(*) FROM corp_transactions")


# ---------------------------------------------------------------------------- neighbourhood


def _cross_branch_corp(wh) -> str:
    """The B002 client with a counterparty in B001 that has the most counterparties, at most
    ``neighbourhood_limit`` (so every counterparty, the B001 one too, is in its neighbourhood)."""
    return wh.scalar(
        """
        WITH cross_branch AS (
            SELECT DISTINCT t.payee_id AS corp_id FROM corp_transactions t
            JOIN corp_clients a ON a.corp_id = t.payer_id
            JOIN corp_clients b ON b.corp_id = t.payee_id
            WHERE a.branch_id = 'B001' AND b.branch_id = 'B002'
        ),
        partners AS (
            SELECT payer_id AS corp_id, payee_id AS partner FROM corp_transactions
            UNION SELECT payee_id, payer_id FROM corp_transactions
        )
        SELECT corp_id FROM partners JOIN cross_branch USING (corp_id)
        GROUP BY corp_id HAVING COUNT(*) <= 30 ORDER BY COUNT(*) DESC, corp_id LIMIT 1
        """
    )


def test_neighbourhood_refuses_out_of_scope(wh):
    b001_corp = wh.scalar("SELECT MIN(corp_id) FROM corp_clients WHERE branch_id = 'B001'")
    with pytest.raises(AccessDenied):
        corporate.neighbourhood(wh, B002, b001_corp)
    other_rm = wh.scalar(
        "SELECT MIN(corp_id) FROM corp_clients WHERE branch_id = 'B002' AND rm_id <> 'R0012'"
    )
    with pytest.raises(AccessDenied):
        corporate.neighbourhood(wh, Scope("rm", ("B002",), rm_id="R0012"), other_rm)


def test_neighbourhood_nodes_edges_and_masking(wh):
    corp_id = _cross_branch_corp(wh)
    nodes, edges = corporate.neighbourhood(wh, B002, corp_id)
    assert list(nodes.columns) == corporate.NODE_COLUMNS
    assert list(edges.columns) == corporate.EDGE_COLUMNS
    assert nodes.iloc[0]["corp_id"] == corp_id and nodes.iloc[0]["direction"] == "center"
    assert (nodes.iloc[0]["x"], nodes.iloc[0]["y"]) == (0.0, 0.0)
    assert nodes["corp_id"].is_unique and len(nodes) <= 31
    rest = nodes.iloc[1:]
    assert rest["amount"].is_monotonic_decreasing and set(rest["direction"]) <= {
        "in",
        "out",
        "both",
    }
    assert np.hypot(nodes["x"], nodes["y"]).max() == pytest.approx(1.0)
    outside = nodes[~nodes["in_scope"]]
    assert len(outside) > 0 and (outside["branch_id"] == "B001").all()
    assert outside["name_zh"].isna().all() and outside["name_en"].isna().all()
    assert outside["industry"].notna().all()
    inside = nodes[nodes["in_scope"]]
    assert inside["name_zh"].notna().all()
    ids = set(nodes["corp_id"])
    assert set(edges["payer_id"]) <= ids and set(edges["payee_id"]) <= ids
    # head office sees every name; the layout is deterministic; limit cuts the counterparties
    head_nodes, _ = corporate.neighbourhood(wh, HEAD, corp_id)
    assert head_nodes["name_zh"].notna().all()
    pd.testing.assert_frame_equal(head_nodes[["x", "y"]], nodes[["x", "y"]])
    small, _ = corporate.neighbourhood(wh, HEAD, corp_id, limit=3)
    assert len(small) == 4 and list(small["corp_id"]) == list(head_nodes["corp_id"][:4])
