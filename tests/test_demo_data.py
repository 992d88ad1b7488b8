"""The demo warehouse generator (analytics/demo_data.py) and analytics/schema.py.

Invariants run on the session snapshot from conftest (4000 clients, 2 branches); determinism and
the file handling build tiny snapshots of their own.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from conftest import SMALL

from analytics import demo_data
from analytics.schema import part_names, schema_part, warehouse_table_names
from analytics.settings import load_settings, tier_lines

LINES = [line for _, line in tier_lines() if line > 0]
FUNDS = ("bond_fund", "mixed_fund", "equity_fund")
PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
             50, 51, 52, 53, 54, 61, 62, 63, 64, 65}  # fmt: skip


@pytest.fixture(scope="module")
def con(demo_db_path):
    c = duckdb.connect(str(demo_db_path), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def as_of(con) -> dt.date:
    return dt.date.fromisoformat(one(con, "SELECT value FROM meta WHERE key = 'as_of'"))


def rows(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()


def one(con, sql, *params):
    return rows(con, sql, *params)[0][0]


# -- schema.py ---------------------------------------------------------------------------------


def test_schema_parts():
    assert part_names() == ["WAREHOUSE", "WORKSPACE"]
    wh = schema_part("warehouse")
    assert "CREATE TABLE clients" in wh and "CREATE TABLE IF NOT EXISTS contact_logs" not in wh
    assert "CREATE TABLE IF NOT EXISTS contact_logs" in schema_part("WORKSPACE")
    assert warehouse_table_names()[:3] == ["meta", "branches", "rms"]
    with pytest.raises(KeyError):
        schema_part("nope")


def test_tables_match_schema_and_are_filled(con):
    ref = duckdb.connect()
    ref.execute(schema_part("WAREHOUSE"))
    for table in warehouse_table_names():
        expected = rows(ref, f"SELECT column_name, column_type FROM (DESCRIBE {table})")
        assert rows(con, f"SELECT column_name, column_type FROM (DESCRIBE {table})") == expected, (
            table
        )
        assert one(con, f"SELECT COUNT(*) FROM {table}") > 0, f"{table} is empty"


def test_meta(con):
    meta = dict(rows(con, "SELECT key, value FROM meta"))
    assert meta["source"] == "demo"
    assert (meta["seed"], meta["clients"], meta["branches"], meta["months"]) == (
        "7",
        "4000",
        "2",
        "13",
    )
    assert meta["generator_version"] == demo_data.GENERATOR_VERSION
    assert "created_at" in meta
    assert one(con, "SELECT COUNT(*) FROM clients") == 4000
    assert one(con, "SELECT COUNT(*) FROM branches") == 2
    assert one(con, "SELECT COUNT(*) FROM rms") == 12
    assert one(con, "SELECT COUNT(*) FROM corp_clients") == SMALL["corporates"]


def test_month_ends(con, as_of):
    months = [r[0] for r in rows(con, "SELECT DISTINCT month_end FROM holdings_monthly ORDER BY 1")]
    assert len(months) == 13 and months[-1] == as_of
    assert all((m + dt.timedelta(days=1)).day == 1 for m in months)
    assert len({(m.year, m.month) for m in months}) == 13


# -- consistency -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT COUNT(*) FROM holdings_monthly WHERE client_id NOT IN (SELECT client_id FROM clients)",
        "SELECT COUNT(*) FROM holdings_monthly WHERE product_id NOT IN (SELECT product_id FROM products)",
        "SELECT COUNT(*) FROM transactions WHERE client_id NOT IN (SELECT client_id FROM clients)",
        "SELECT COUNT(*) FROM transactions WHERE product_id NOT IN (SELECT product_id FROM products)",
        "SELECT COUNT(*) FROM insurance_policies WHERE client_id NOT IN (SELECT client_id FROM clients)",
        "SELECT COUNT(*) FROM family_members WHERE client_id NOT IN (SELECT client_id FROM clients)",
        "SELECT COUNT(*) FROM digital_activity WHERE client_id NOT IN (SELECT client_id FROM clients)",
        "SELECT COUNT(*) FROM clients WHERE branch_id NOT IN (SELECT branch_id FROM branches)",
        "SELECT COUNT(*) FROM rms WHERE branch_id NOT IN (SELECT branch_id FROM branches)",
        # an RM always belongs to the client's branch
        """SELECT COUNT(*) FROM clients c LEFT JOIN rms r USING (rm_id)
           WHERE c.rm_id IS NOT NULL AND (r.rm_id IS NULL OR r.branch_id <> c.branch_id)""",
        """SELECT COUNT(*) FROM corp_clients c LEFT JOIN rms r USING (rm_id)
           WHERE c.rm_id IS NOT NULL AND (r.rm_id IS NULL OR r.branch_id <> c.branch_id)""",
        # contact history is with the client's own RM
        """SELECT COUNT(*) FROM contact_history h JOIN clients c USING (client_id)
           WHERE c.rm_id IS DISTINCT FROM h.rm_id""",
        # employers are corporate clients of the same branch
        """SELECT COUNT(*) FROM clients c LEFT JOIN corp_clients e ON e.corp_id = c.employer_corp_id
           WHERE c.employer_corp_id IS NOT NULL AND (e.corp_id IS NULL OR e.branch_id <> c.branch_id
                 OR NOT c.payroll_flag)""",
        "SELECT COUNT(*) FROM corp_transactions WHERE payer_id = payee_id",
        """SELECT COUNT(*) FROM corp_transactions
           WHERE payer_id NOT IN (SELECT corp_id FROM corp_clients)
              OR payee_id NOT IN (SELECT corp_id FROM corp_clients)""",
        """SELECT (SELECT COUNT(*) FROM corp_clients) - (SELECT COUNT(*) FROM corp_accounts
           WHERE corp_id IN (SELECT corp_id FROM corp_clients))""",
        "SELECT COUNT(*) FROM corp_clients WHERE payroll_headcount > employees",
        # no position before the relationship began, no negative balances
        """SELECT COUNT(*) FROM holdings_monthly h JOIN clients c USING (client_id)
           WHERE h.month_end < c.open_date OR h.balance < 0 OR h.cost < 0""",
        "SELECT COUNT(*) FROM transactions WHERE amount <= 0",
        # pay day set exactly when salary or pension is paid here
        "SELECT COUNT(*) FROM clients WHERE (pay_day IS NOT NULL) <> (payroll_flag OR pension_flag)",
        """SELECT COUNT(*) FROM transactions t JOIN clients c USING (client_id)
           WHERE (t.txn_type = 'payroll' AND NOT c.payroll_flag)
              OR (t.txn_type = 'pension' AND NOT c.pension_flag)
              OR (t.txn_type IN ('payroll', 'pension') AND (t.client_initiated OR t.channel <> 'system'))""",
        # no mobile channel without mobile banking, no logins either
        """SELECT COUNT(*) FROM transactions t JOIN clients c USING (client_id)
           WHERE t.channel = 'mobile' AND NOT c.mobile_banking""",
        """SELECT COUNT(*) FROM digital_activity d JOIN clients c USING (client_id)
           WHERE d.mobile_logins > 0 AND NOT c.mobile_banking""",
        "SELECT COUNT(*) FROM insurance_policies WHERE cooling_off_end <> start_date + 15",
        "SELECT COUNT(*) FROM clients WHERE risk_assessed_on < open_date OR open_date > DATE '2026-10-31'",
        # client_aum_monthly is holdings_monthly summed per client and month
        """SELECT COUNT(*) FROM (
             SELECT month_end, client_id, SUM(COALESCE(avg_balance, balance)) AS aum,
                    SUM(balance) AS aum_month_end FROM holdings_monthly GROUP BY ALL
           ) h FULL JOIN client_aum_monthly a USING (month_end, client_id)
           WHERE a.aum IS DISTINCT FROM h.aum OR a.aum_month_end IS DISTINCT FROM h.aum_month_end""",
        """SELECT COUNT(*) FROM client_aum_monthly a JOIN clients c USING (client_id)
           WHERE a.branch_id <> c.branch_id OR a.rm_id IS DISTINCT FROM c.rm_id""",
    ],
)
def test_consistency(con, sql):
    assert one(con, sql) == 0


def test_family_dates(con, as_of):
    # children are born when the client was 18+ and before the as-of date
    bad = one(
        con,
        """SELECT COUNT(*) FROM family_members f JOIN clients c USING (client_id)
           WHERE f.relation = 'child' AND (f.birth_date < c.birth_date + INTERVAL 18 YEAR
                                           OR f.birth_date > ?)""",
        as_of,
    )
    assert bad == 0
    assert one(con, "SELECT COUNT(*) FROM family_members WHERE relation = 'spouse'") == one(
        con, "SELECT COUNT(*) FROM clients WHERE marital_status = 'married'"
    )


def test_every_client_has_a_current_deposit(con, as_of):
    missing = one(
        con,
        """SELECT COUNT(*) FROM clients WHERE client_id NOT IN (
             SELECT client_id FROM holdings_monthly JOIN products USING (product_id)
             WHERE category = 'current_deposit' AND month_end = ?)""",
        as_of,
    )
    assert missing == 0


# -- clients -------------------------------------------------------------------------------


def _ages(con, as_of):
    return rows(
        con,
        """SELECT date_diff('year', birth_date, ?::DATE)
                  - CASE WHEN strftime(birth_date, '%m%d') > strftime(?::DATE, '%m%d') THEN 1 ELSE 0 END
           FROM clients""",
        as_of,
        as_of,
    )


def test_ages_and_seniors(con, as_of):
    ages = [r[0] for r in _ages(con, as_of)]
    assert min(ages) >= 18 and max(ages) <= 90
    senior = sum(a >= load_settings()["cohorts"]["senior_min_age"] for a in ages) / len(ages)
    assert 0.25 <= senior <= 0.45
    assert sum(a >= 70 for a in ages) > 0
    # birthdays fall in every month
    assert one(con, "SELECT COUNT(DISTINCT month(birth_date)) FROM clients") == 12
    # retirees are mostly 60+ (women may retire at 50 or 55)
    old = one(
        con,
        """SELECT AVG((date_diff('year', birth_date, ?::DATE) >= 59)::INT) FROM clients
           WHERE occupation = 'retired'""",
        as_of,
    )
    assert old > 0.7


def test_id_numbers(con):
    bad = []
    for client_id, idn, birth, gender in rows(
        con, "SELECT client_id, id_number, birth_date, gender FROM clients"
    ):
        ok = (
            len(idn) == 18
            and idn[:17].isdigit()
            and demo_data.id_check_char(idn[:17]) == idn[17]
            and idn[6:14] == birth.strftime("%Y%m%d")
            and int(idn[:2]) in PROVINCES
            and int(idn[16]) % 2 == (1 if gender == "M" else 0)
        )
        if not ok:
            bad.append((client_id, idn))
    assert not bad, bad[:5]
    assert one(con, "SELECT COUNT(*) FROM clients WHERE id_number LIKE '%X'") > 0


def test_id_check_char_known_value():
    # the textbook example of GB 11643-1999
    assert demo_data.id_check_char("11010519491231002") == "X"


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def test_phone_card_address(con):
    prefixes = {str(p) for p in demo_data.PHONE_PREFIXES}
    for phone, card, address in rows(con, "SELECT phone, card_number, address FROM clients"):
        assert len(phone) == 11 and phone.isdigit() and phone[:3] in prefixes
        assert len(card) == 19 and card.startswith("62") and _luhn_ok(card)
        assert ("市" in address) and ("区" in address) and address.endswith("室")


def test_names_and_pinyin(con):
    surnames = sorted(demo_data.SURNAMES, key=lambda s: -len(s[0]))
    given = dict(demo_data.GIVEN_MALE + demo_data.GIVEN_FEMALE)
    for name_zh, name_en in rows(
        con, "SELECT name_zh, name_en FROM clients UNION ALL SELECT name_zh, name_en FROM rms"
    ):
        zh_sur, py_sur = next((z, p) for z, p, _ in surnames if name_zh.startswith(z))
        rest = name_zh[len(zh_sur) :]
        assert 1 <= len(rest) <= 2
        expected = py_sur + " " + "".join(given[c] for c in rest).capitalize()
        assert name_en == expected, (name_zh, name_en)
    compound = one(
        con,
        "SELECT COUNT(*) FROM clients WHERE name_en SIMILAR TO '(Ouyang|Sima|Zhuge|Shangguan|Situ|Dongfang|Murong|Huangfu) .*'",
    )
    assert compound < 40  # rare


def test_risk_levels_and_assessment(con, as_of):
    dist = dict(rows(con, "SELECT risk_level, COUNT(*) FROM clients GROUP BY 1"))
    assert set(dist) == {"C1", "C2", "C3", "C4", "C5"}
    assert dist["C1"] + dist["C2"] > dist["C4"] + dist["C5"]  # conservative
    # seniors more conservative than the young
    by_age = dict(
        rows(
            con,
            """SELECT date_diff('year', birth_date, ?::DATE) >= 60,
                      AVG(CAST(risk_level[2:] AS INT)) FROM clients GROUP BY 1""",
            as_of,
        )
    )
    assert by_age[True] < by_age[False]
    expired = one(
        con,
        "SELECT AVG((risk_assessed_on < ?::DATE - INTERVAL 1 YEAR)::INT) FROM clients",
        as_of,
    )
    assert 0.15 <= expired <= 0.40
    assert one(con, "SELECT MIN(risk_assessed_on) FROM clients") >= as_of - dt.timedelta(days=731)


def test_mobile_banking_falls_with_age(con, as_of):
    share = dict(
        rows(
            con,
            """SELECT date_diff('year', birth_date, ?::DATE) >= 70, AVG(mobile_banking::INT)
               FROM clients GROUP BY 1""",
            as_of,
        )
    )
    assert share[True] < share[False] - 0.3


def test_flags(con):
    payroll, pension, retired_pension = rows(
        con,
        """SELECT AVG(payroll_flag::INT), AVG(pension_flag::INT),
                  AVG(pension_flag::INT) FILTER (WHERE occupation = 'retired') FROM clients""",
    )[0]
    assert 0.1 < payroll < 0.5 and 0.03 < pension < 0.3
    assert 0.3 < retired_pension < 0.95  # some retirees have their pension paid elsewhere
    assert one(con, "SELECT COUNT(*) FROM clients WHERE employer_corp_id IS NOT NULL") > 0
    assert one(con, "SELECT AVG((monthly_spending < monthly_income)::INT) FROM clients") > 0.8


def test_rm_adoption(con, as_of):
    platinum = dict(tier_lines())["platinum"]
    total, unassigned = rows(
        con,
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE rm_id IS NULL) FROM client_aum_monthly WHERE month_end = ? AND aum >= ?",
        as_of,
        platinum,
    )[0]
    assert total > 0 and 0 < unassigned <= 0.1 * total
    # about half of the active clients are in a book, few of the dormant accounts (issue 13)
    in_book = one(con, "SELECT AVG((rm_id IS NOT NULL)::INT) FROM clients")
    active = one(
        con,
        """SELECT AVG((rm_id IS NOT NULL)::INT) FROM clients WHERE client_id IN
           (SELECT client_id FROM transactions WHERE client_initiated)""",
    )
    assert 0.35 <= in_book < active and active > 0.5


# -- AUM distribution ------------------------------------------------------------------------


def test_top_clients_hold_most_aum(con, as_of):
    share = one(
        con,
        """WITH a AS (SELECT aum, ROW_NUMBER() OVER (ORDER BY aum DESC) AS r, COUNT(*) OVER () AS n
                      FROM client_aum_monthly WHERE month_end = ?)
           SELECT SUM(aum) FILTER (WHERE r <= n * 0.025) / SUM(aum) FROM a""",
        as_of,
    )
    assert share > 0.5


@pytest.mark.parametrize("line", LINES)
def test_clients_on_both_sides_of_each_line(con, as_of, line):
    below_now, above_now = rows(
        con,
        """SELECT COUNT(*) FILTER (WHERE aum >= 0.9 * ? AND aum < ?), COUNT(*) FILTER (WHERE aum >= ?)
           FROM client_aum_monthly WHERE month_end = ?""",
        line,
        line,
        line,
        as_of,
    )[0]
    assert above_now > 0
    # Just under the line (upgrade near-misses): in the latest month wherever the tier is
    # populated enough to expect some (with 4000 clients the top line has only a handful of
    # clients above it), and for every line over the 13 month-ends.
    if above_now >= 50:
        assert below_now > 0
        # a band, not a spike: the 10% just under the line is not crowded compared with the
        # 10% below that
        lower_now = one(
            con,
            """SELECT COUNT(*) FROM client_aum_monthly
               WHERE month_end = ? AND aum >= 0.8 * ? AND aum < 0.9 * ?""",
            as_of,
            line,
            line,
        )
        assert below_now <= 2 * lower_now + 5
    near = one(
        con, "SELECT COUNT(*) FROM client_aum_monthly WHERE aum >= 0.9 * ? AND aum < ?", line, line
    )
    assert near > 0


def test_tiers_move_over_the_year(con, as_of):
    lines = [line for _, line in tier_lines()]
    tier = " + ".join(f"(aum >= {line})::INT" for line in lines[1:])
    up, down = rows(
        con,
        f"""WITH t AS (SELECT client_id, month_end, {tier} AS tier FROM client_aum_monthly),
                f AS (SELECT * FROM t WHERE month_end = (SELECT MIN(month_end) FROM t)),
                l AS (SELECT * FROM t WHERE month_end = ?)
           SELECT COUNT(*) FILTER (WHERE l.tier > f.tier), COUNT(*) FILTER (WHERE l.tier < f.tier)
           FROM f JOIN l USING (client_id)""",
        as_of,
    )[0]
    assert up > 0 and down > 0
    assert up + down < 0.3 * 4000  # a visible minority, not everyone


# -- products and holdings ---------------------------------------------------------------------


def test_product_shelf(con):
    cats = {r[0] for r in rows(con, "SELECT DISTINCT category FROM products")}
    assert cats == set(demo_data.CATEGORIES)
    n, off_shelf = rows(con, "SELECT COUNT(*), COUNT(*) FILTER (WHERE NOT on_shelf) FROM products")[
        0
    ]
    assert 50 <= n <= 80 and 1 <= off_shelf <= 10
    assert {
        r[0] for r in rows(con, "SELECT DISTINCT risk_level FROM products WHERE category = 'trust'")
    } <= {"R4", "R5"}
    assert one(con, "SELECT COUNT(*) FROM products WHERE name_zh = '' OR name_en = ''") == 0


def test_positions_per_client(con):
    per_client = one(
        con, "SELECT COUNT(*) / COUNT(DISTINCT (client_id, month_end)) FROM holdings_monthly"
    )
    # a dormant account (about 28% of clients) holds its current deposit only
    assert 2.0 <= per_client <= 5.5
    dormant_multi = one(
        con,
        """SELECT COUNT(*) FROM (SELECT client_id FROM holdings_monthly GROUP BY client_id
                                 HAVING COUNT(DISTINCT product_id) > 1)
           WHERE client_id NOT IN (SELECT client_id FROM transactions WHERE client_initiated)""",
    )
    assert dormant_multi < 0.05 * one(con, "SELECT COUNT(*) FROM clients")


def test_fund_losses(con, as_of):
    le15, le20, gains = rows(
        con,
        f"""SELECT COUNT(*) FILTER (WHERE (balance - cost) / cost <= -0.15),
                   COUNT(*) FILTER (WHERE (balance - cost) / cost <= -0.20),
                   COUNT(*) FILTER (WHERE balance > cost)
            FROM holdings_monthly JOIN products USING (product_id)
            WHERE month_end = ? AND category IN {FUNDS}""",
        as_of,
    )[0]
    assert le15 > le20 > 0 and gains > le15


def test_maturities(con, as_of):
    soon = one(
        con,
        """SELECT COUNT(*) FROM holdings_monthly WHERE month_end = ?
           AND maturity_date > ? AND maturity_date <= ? + INTERVAL 60 DAY""",
        as_of,
        as_of,
        as_of,
    )
    assert soon > 50
    # term products carry a maturity, open-ended ones none
    assert (
        one(
            con,
            """SELECT COUNT(*) FROM holdings_monthly JOIN products USING (product_id)
           WHERE (term_days IS NULL) <> (maturity_date IS NULL)""",
        )
        == 0
    )


def test_suitability_breaches_are_rare(con, as_of):
    total, breach = rows(
        con,
        """SELECT COUNT(*), COUNT(*) FILTER (WHERE p.risk_level[2:]::INT > c.risk_level[2:]::INT)
           FROM holdings_monthly h JOIN products p USING (product_id) JOIN clients c USING (client_id)
           WHERE h.month_end = ?""",
        as_of,
    )[0]
    assert 0 < breach < 0.05 * total


def test_trusts_only_for_the_wealthy(con):
    assert (
        one(
            con,
            """SELECT COUNT(*) FROM holdings_monthly JOIN products USING (product_id)
           WHERE category = 'trust' AND cost < 1000000""",
        )
        == 0
    )


def test_avg_balance_mostly_measured(con):
    share_null, insurance_null = rows(
        con,
        """SELECT AVG((avg_balance IS NULL)::INT),
                  AVG((avg_balance IS NULL)::INT) FILTER (WHERE category LIKE '%insurance')
           FROM holdings_monthly JOIN products USING (product_id)""",
    )[0]
    assert 0 < share_null < 0.25 and insurance_null == 1


def test_insurance(con, as_of):
    n, below, protection = rows(
        con,
        """SELECT COUNT(*), COUNT(*) FILTER (WHERE actual_yield < illustrated_yield),
                  COUNT(*) FILTER (WHERE illustrated_yield IS NULL) FROM insurance_policies""",
    )[0]
    assert below > 0 and 0 < protection < n
    # every insurance holding has its policy
    missing = one(
        con,
        """SELECT COUNT(*) FROM holdings_monthly h JOIN products p USING (product_id)
           WHERE h.month_end = ? AND p.category LIKE '%insurance'
             AND NOT EXISTS (SELECT 1 FROM insurance_policies i
                             WHERE i.client_id = h.client_id AND i.product_id = h.product_id)""",
        as_of,
    )
    assert missing == 0


# -- transactions, activity, contacts ---------------------------------------------------------


def test_transactions(con, as_of):
    lo, hi, n, initiated = rows(
        con,
        "SELECT MIN(txn_date), MAX(txn_date), COUNT(*), AVG(client_initiated::INT) FROM transactions",
    )[0]
    assert lo > as_of.replace(year=as_of.year - 1) and hi <= as_of
    assert 15 <= n / 4000 <= 45
    assert 0.5 < initiated < 1
    types = {r[0] for r in rows(con, "SELECT DISTINCT txn_type FROM transactions")}
    assert types == set(demo_data.TXN_TYPES)
    assert (
        one(
            con,
            "SELECT COUNT(*) FROM transactions WHERE txn_type = 'transfer_in' AND counterparty_bank IS NOT NULL",
        )
        > 0
    )
    assert (
        one(
            con,
            "SELECT COUNT(*) FROM transactions WHERE txn_type IN ('purchase', 'redemption') AND product_id IS NULL",
        )
        == 0
    )


def test_channels_by_age(con, as_of):
    counter = dict(
        rows(
            con,
            """SELECT date_diff('year', c.birth_date, ?::DATE) >= 65, AVG((t.channel = 'counter')::INT)
               FROM transactions t JOIN clients c USING (client_id)
               WHERE t.txn_type IN ('transfer_in', 'transfer_out', 'purchase') GROUP BY 1""",
            as_of,
        )
    )
    assert counter[True] > counter[False] + 0.2


def test_digital_activity(con, as_of):
    logins = dict(
        rows(
            con,
            """SELECT date_diff('year', c.birth_date, ?::DATE) >= 60, AVG(d.mobile_logins)
               FROM digital_activity d JOIN clients c USING (client_id) GROUP BY 1""",
            as_of,
        )
    )
    assert logins[False] > logins[True] > 0
    assert one(con, "SELECT COUNT(DISTINCT month_end) FROM digital_activity") == 13


def test_contacts_favour_high_tiers(con, as_of):
    per_client = dict(
        rows(
            con,
            """SELECT a.aum >= ?, COUNT(h.client_id) / COUNT(DISTINCT a.client_id)
               FROM client_aum_monthly a LEFT JOIN contact_history h USING (client_id)
               WHERE a.month_end = ? AND a.rm_id IS NOT NULL GROUP BY 1""",
            dict(tier_lines())["platinum"],
            as_of,
        )
    )
    assert per_client[True] > 3 * per_client[False]


# -- corporate -----------------------------------------------------------------------------------


def test_corporate(con):
    # issue 13: 2-3% of borrowers default a year (the default demo: bench/demo_realism.py); a
    # company without a loan has nothing to default on
    rate, no_loan_bad = rows(
        con,
        """SELECT AVG(default_flag::INT) FILTER (WHERE loan_balance > 0),
                  COUNT(*) FILTER (WHERE default_flag AND loan_balance = 0) FROM corp_accounts""",
    )[0]
    assert 0.012 <= rate <= 0.035 and no_loan_bad == 0
    assert {r[0] for r in rows(con, "SELECT DISTINCT size FROM corp_clients")} == set(
        demo_data.SIZES
    )
    assert one(con, "SELECT COUNT(*) FROM corp_clients WHERE name_zh NOT LIKE '%公司'") == 0
    # defaulters have worse features on average
    d_yes, d_no = rows(
        con,
        """SELECT AVG(debt_ratio) FILTER (WHERE default_flag), AVG(debt_ratio) FILTER (WHERE NOT default_flag)
           FROM corp_clients JOIN corp_accounts USING (corp_id)""",
    )[0]
    assert d_yes > d_no
    # a payment network with hubs: the busiest payer has far more counterparties than the median
    top, median = rows(
        con,
        """WITH d AS (SELECT payer_id, COUNT(DISTINCT payee_id) AS k FROM corp_transactions GROUP BY 1)
           SELECT MAX(k), MEDIAN(k) FROM d""",
    )[0]
    assert top >= 4 * median
    # churn (issue 13): of the companies settling since the window's first month on at least 10
    # days, about one in ten has been silent for the last 90 days (left the bank)
    silent = one(
        con,
        """WITH s AS (SELECT payer_id AS id, txn_date AS d FROM corp_transactions
                      UNION SELECT payee_id, txn_date FROM corp_transactions),
                g AS (SELECT id, COUNT(*) AS n, MIN(d) AS f, MAX(d) AS l FROM s GROUP BY id)
           SELECT AVG((l < (SELECT MAX(txn_date) FROM corp_transactions) - INTERVAL 90 DAY)::INT)
           FROM g WHERE n >= 10 AND f < (SELECT MIN(txn_date) FROM corp_transactions) + 31""",
    )
    assert 0.05 <= silent <= 0.25


# -- determinism and files -----------------------------------------------------------------------

TINY = dict(clients=600, branches=2, months=13, rms_per_branch=3, corporates=40)


def _contents(path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as c:
        out = {}
        for table in warehouse_table_names():
            where = " WHERE key <> 'created_at'" if table == "meta" else ""
            out[table] = c.execute(f"SELECT * FROM {table}{where} ORDER BY ALL").fetchall()
        return out


def test_same_seed_same_contents_other_seed_differs(tmp_path):
    a = _contents(demo_data.build_snapshot(tmp_path / "a.duckdb", seed=11, **TINY))
    b = _contents(demo_data.build_snapshot(tmp_path / "b.duckdb", seed=11, **TINY))
    c = _contents(demo_data.build_snapshot(tmp_path / "c.duckdb", seed=12, **TINY))
    assert a == b
    differing = [t for t in a if a[t] != c[t]]
    assert set(differing) >= set(a) - {"meta", "branches", "products"}
    assert a["meta"] != c["meta"]


def test_worker_process_gives_the_same_contents(tmp_path):
    args = dict(seed=5, clients=400, branches=3, months=4, rms_per_branch=2, corporates=12)
    a = _contents(demo_data.build_snapshot(tmp_path / "a.duckdb", workers=0, **args))
    b = _contents(demo_data.build_snapshot(tmp_path / "b.duckdb", workers=1, **args))
    assert a == b


def test_failed_build_leaves_no_file(tmp_path, monkeypatch):
    target = tmp_path / "w.duckdb"

    def boom(ctx, b):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(demo_data, "_gen_branch", boom)
    with pytest.raises(RuntimeError):
        demo_data.build_snapshot(target, seed=1, workers=0, **TINY)
    assert list(tmp_path.iterdir()) == []


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        demo_data.build_snapshot(tmp_path / "x.duckdb", 100, as_of="2026-10-30")
    with pytest.raises(ValueError):
        demo_data.build_snapshot(tmp_path / "x.duckdb", 1, branches=2)
    assert list(tmp_path.iterdir()) == []


def test_cli(tmp_path, capsys):
    out = tmp_path / "cli.duckdb"
    rc = demo_data.main(["--clients", "300", "--branches", "1", "--months", "3", "--seed", "3",
                         "--corporates", "10", "--as-of", "2025-12-31", "--out", str(out)])  # fmt: skip
    assert rc == 0 and out.exists()
    text = capsys.readouterr().out
    assert "holdings_monthly" in text and "wrote" in text
    with duckdb.connect(str(out), read_only=True) as c:
        assert c.execute("SELECT value FROM meta WHERE key = 'as_of'").fetchall() == [
            ("2025-12-31",)
        ]
        months = c.execute("SELECT DISTINCT month_end FROM holdings_monthly ORDER BY 1").fetchall()
        assert [m[0] for m in months] == [
            dt.date(2025, 10, 31),
            dt.date(2025, 11, 30),
            dt.date(2025, 12, 31),
        ]


def test_worker_failure_is_reported():
    bad = (1, dt.date(2026, 10, 31), 0, [10], [0], 1)  # zero months: the worker crashes
    with pytest.raises(RuntimeError, match="worker failed"):
        list(demo_data._branch_tables(bad, 1, 1))
