"""What each setting of settings.toml is, for the Rules view (规则设置, issue 14 point 3).

``settings_doc(settings)`` turns the parsed settings into one list of ``Setting`` rows per
top-level section, in the file's order: one row per value (a number, a string, a list; an empty
table is one row too), found by walking the nested tables. Each row says how to show its value
(``kind``) and which parts of its key are codes (a tier, a product category, a trigger, ...), so
the view can print ``tiers.lines.platinum = 500000`` as "分层线 · 白金: 50万".

The view's words live in the string table (ui/i18n.py), never here and never in the TOML comments:

- a row's explanation is ``rules.<doc key>``, its name ``rulename.<doc key>``; the doc key is the
  section and the key's fixed parts without its codes (``tiers.lines`` for every tier's line,
  ``contact_rule.triggers.weight`` for every trigger's weight);
- a code is named by its kind (``CODE_KINDS`` below; the view maps each kind to its labels).

A key that ``SPEC`` does not know (a bank's own addition) still gets a row: its kind is guessed
from its value and its doc key is its whole path. Pure Python: no Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

# How a value is shown (the view formats each per language):
#   money        yuan                         share   a fraction, as a percentage
#   days / months / years / age / minutes / hours / mb / kib / chars / times / ratio   a number
#                with its unit
#   count        a whole number with separators  number  a plain number (weights, scores)
#   id           a number without separators (seeds)  text  a string as written
#   bool         yes / no                     date / dates   ISO dates
#   age_bands    [[50, 59], [70, 200]]        list   strings joined
#   code:<kind> / codes:<kind>   one code / a list of codes, named by their labels
# Code kinds: tier, category, trigger, slot, finding, severity, pocket, tag, gender, title,
# occupation, credit_reason, override, override_action, aum_measure, population, trained_on,
# match, codetable, raw (shown as written), and the importer's code lists (IMPORT_CODE_KINDS).
KINDS = (
    "money", "share", "days", "months", "years", "age", "minutes", "hours", "mb", "kib", "chars",
    "times", "ratio", "count", "number", "id", "text", "bool", "date", "dates", "age_bands", "list",
    "colour", "empty",
)  # fmt: skip

# The importer's code lists ([importer.codes.<list>]): the kind of the codes each one maps to.
IMPORT_CODE_KINDS: dict[str, str] = {
    "gender": "gender",
    "risk": "raw",
    "product_risk": "raw",
    "category": "category",
    "liquidity": "liquidity",
    "title": "title",
    "marital": "marital",
    "occupation": "occupation",
    "txn_type": "txn",
    "direction": "direction",
    "channel": "channel",
    "contact_channel": "channel",
    "contact_topic": "topic",
    "contact_outcome": "outcome",
    "relation": "relation",
    "industry": "industry",
    "corp_size": "size",
}

_TRIGGER = ("trigger",)
_TIER = ("tier",)

# Per section: (key pattern, value kind, kinds of the pattern's "*" parts). The first pattern that
# matches a key wins, so a specific one goes before a general one.
SPEC: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "aum": [("measure", "code:aum_measure", ())],
    "tiers": [
        ("order", "codes:tier", ()),
        ("downgrade_after_months", "months", ()),
        ("high_end_from", "code:tier", ()),
        ("lines.*", "money", _TIER),
        ("colours.*", "colour", _TIER),
        ("labels", "empty", ()),
        ("labels.*.zh", "text", _TIER),
        ("labels.*.en", "text", _TIER),
    ],
    "funds": [("categories", "codes:category", ()), ("loss_line", "share", ())],
    "threshold": [
        ("upgrade_band", "share", ()),
        ("downgrade_band", "share", ()),
        ("maturity_window_days", "days", ()),
        ("inflow_window_days", "days", ()),
        ("mobile_active_months", "months", ()),
        ("mobile_min_logins", "times", ()),
        ("relationship_wealth_categories", "codes:category", ()),
        ("relationship_insurance_categories", "codes:category", ()),
    ],
    "clusters": [
        ("k_min", "number", ()),
        ("k_max", "number", ()),
        ("random_state", "id", ()),
        ("n_init", "number", ()),
        ("fit_sample", "count", ()),
        ("silhouette_sample", "count", ()),
        ("trait_min_d", "number", ()),
        ("max_traits", "number", ()),
        ("lookback_months", "months", ()),
        ("deposit_categories", "codes:category", ()),
        ("investment_categories", "codes:category", ()),
    ],
    "cohorts": [
        ("peer_penetration", "share", ()),
        ("senior_min_age", "age", ()),
        ("senior_bands", "age_bands", ()),
        ("younger_bands", "age_bands", ()),
        ("channel_months", "months", ()),
    ],
    "value_score": [
        (key, "number", ())
        for key in ("aum", "contribution", "product_breadth", "activity", "tenure")
    ],
    "value_tiers": [
        ("mvc_top_share", "share", ()),
        ("mgc_top_share", "share", ()),
        ("potential_percentile", "share", ()),
        ("age_band_start", "age", ()),
        ("age_band_years", "years", ()),
    ],
    "contribution": [
        ("cost_to_serve_per_year", "money", ()),
        ("cost_per_counter_txn", "money", ()),
        ("lookback_months", "months", ()),
        *[
            (key, "share", ())
            for key in (
                "current_deposit_spread",
                "time_deposit_spread",
                "wealth_fee",
                "fund_subscription_fee",
                "fund_trailing_fee",
                "insurance_first_year",
                "precious_metal_fee",
                "savings_bond_fee",
                "trust_fee",
            )
        ],  # fmt: skip
    ],
    "rfm": [("quintiles", "number", ()), ("lookback_months", "months", ())],
    "contact_rule": [
        ("deep", "count", ()),
        ("calls", "count", ()),
        ("light", "count", ()),
        ("min_interval_days", "days", ()),
        ("overdue_bonus", "number", ()),
        ("cadence_fill_slot", "code:slot", ()),
        ("stale_risk_warn_days", "days", ()),
        ("holidays", "dates", ()),
        ("working_days", "dates", ()),
        ("notice_years", "list", ()),
        ("deep_contact_times", "list", ()),
        ("deep_contact_minutes", "minutes", ()),
        ("timezone", "text", ()),
        ("triggers.*.weight", "number", _TRIGGER),
        ("triggers.*.slot", "code:slot", _TRIGGER),
        ("triggers.*.days_before", "days", _TRIGGER),
        ("triggers.*.deadline_days", "days", _TRIGGER),
        ("triggers.*.cooldown_days", "days", _TRIGGER),
        ("triggers.*.further_drop", "share", _TRIGGER),
        ("triggers.*.keep_slot", "bool", _TRIGGER),
        ("tier_weight.*", "number", _TIER),
        ("cadence_days.*", "days", _TIER),
    ],
    "invitations": [
        ("upgrade_band_below", "share", ()),
        ("fund_loss_second", "share", ()),
        ("exclude_contacted_days", "days", ()),
        ("upgrade_line_tier", "code:tier", ()),
        ("deposit_rate_3y", "share", ()),
        ("event_child_max_age", "age", ()),
        ("event_affluent_tier", "code:tier", ()),
    ],
    "privacy": [("owner_may_unmask", "bool", ())],
    "demo": [
        ("clients", "count", ()),
        ("branches", "count", ()),
        ("rms_per_branch", "count", ()),
        ("months", "months", ()),
        ("corporates_per_branch", "count", ()),
        ("seed", "id", ()),
        ("as_of", "date", ()),
    ],
    "stores": [("keep_snapshots", "count", ()), ("stale_after_days", "days", ())],
    "kyc": [("risk_assessment_valid_days", "days", ())],
    "client_view": [
        ("recent_transactions", "count", ()),
        ("recent_contacts", "count", ()),
        ("maturity_lookahead_days", "days", ()),
        ("upcoming_birthday_days", "days", ()),
    ],
    "client_lists": [("top_n", "count", ()), ("export_max", "count", ())],
    "tags": [
        ("high_net_worth.min_tier", "code:tier", ()),
        ("retirement_age.*", "age", ("gender",)),
        ("near_retirement.years_before", "years", ()),
        ("retired.occupations", "codes:occupation", ()),
        ("child_education.min_child_age", "age", ()),
        ("child_education.max_child_age", "age", ()),
        ("risk_profile.*", "list", ("tag",)),
        ("digital.months", "months", ()),
        ("digital.min_logins", "times", ()),
        ("deposit_maturing.within_days", "days", ()),
        ("deposit_maturing.categories", "codes:category", ()),
        ("long_uncontacted.days", "days", ()),
    ],
    "seniors": [
        ("calendar_days", "days", ()),
        ("maturity_categories", "codes:category", ()),
        ("large_maturity_amount", "money", ()),
        ("dormant_days", "days", ()),
    ],
    "adoption": [
        ("default_capacity", "count", ()),
        ("capacity_by_title.*", "count", ("title",)),
        ("titles_by_tier.*", "codes:title", ("tier",)),
    ],
    "allocation": [
        ("deposit_categories", "codes:category", ()),
        ("protection_categories", "codes:category", ()),
        ("default_product_risk", "text", ()),
        ("concentration_max_share", "share", ()),
        ("concentration_exempt_categories", "codes:category", ()),
        ("over_saving_max_share", "share", ()),
        ("liquidity_min_months", "months", ()),
        ("liquidity_comfortable_months", "months", ()),
        ("protection_min_children", "count", ()),
        ("unknown_client_level", "text", ()),
        ("min_move_amount", "money", ()),
        ("term_categories", "codes:category", ()),
        ("maturity_horizon_days", "days", ()),
        ("unsellable_categories", "codes:category", ()),
        ("protection_premium_share", "share", ()),
        ("protection_min_premium", "money", ()),
        ("pocket_tolerance", "share", ()),
        ("pocket_checked", "codes:pocket", ()),
        ("pocket_grow_min_level", "text", ()),
        ("pocket_targets.*", "share", ("pocket",)),
        ("severity.*", "code:severity", ("finding",)),
        *[
            (f"scores.{stars}.{dim}", kind, codes)
            for stars, codes in (("*", ("category",)), ("*.*", ("category", "raw")))
            for dim, kind in (
                ("safety", "number"),
                ("liquidity", "number"),
                ("return", "number"),
                ("pocket", "code:pocket"),
            )
        ],  # fmt: skip
        *[
            (f"bands.*.{dim}_{end}", "number", ("raw",))
            for dim in ("safety", "liquidity", "return")
            for end in ("min", "max")
        ],
    ],
    "corporate": [
        ("deposit_spread", "share", ()),
        ("loan_margin_share", "share", ()),
        ("cost_to_serve_per_year", "money", ()),
        ("history_months", "months", ()),
        ("horizon_months", "months", ()),
        ("annual_discount_rate", "share", ()),
        ("min_clients_for_fit", "count", ()),
        ("min_value_per_settlement", "money", ()),
        ("p_alive_note_cut", "share", ()),
        ("social.damping", "number", ()),
        ("social.neighbourhood_limit", "count", ()),
        *[
            (f"social.weights.{key}", "share", ())
            for key in ("pagerank", "counterparties", "payroll", "linked_aum")
        ],
    ],
    "scorecard": [
        ("seed", "id", ()),
        ("holdout_share", "share", ()),
        ("min_rows", "count", ()),
        ("min_bad", "count", ()),
        ("identifier_min_distinct_share", "share", ()),
        ("identifier_min_rows", "count", ()),
        ("max_categories", "count", ()),
        ("free_text_min_length", "chars", ()),
        ("numeric_parse_share", "share", ()),
        ("identifier_columns", "list", ()),
        ("population", "code:population", ()),
        ("trained_on", "code:trained_on", ()),
        ("borrower_columns", "list", ()),
        ("initial_bins", "count", ()),
        ("min_bin_share", "share", ()),
        ("rare_share", "share", ()),
        ("woe_smoothing", "number", ()),
        ("min_iv", "number", ()),
        ("max_iv", "number", ()),
        ("C", "number", ()),
        ("max_iter", "count", ()),
        ("base_score", "number", ()),
        ("base_odds", "number", ()),
        ("pdo", "number", ()),
        ("psi_bins", "count", ()),
        ("grade_pd.*", "share", ("raw",)),
        ("overrides.*.column", "text", ("override",)),
        ("overrides.*.action", "code:override_action", ("override",)),
        ("overrides.*.grade", "text", ("override",)),
        ("overrides.*.reason", "code:credit_reason", ("override",)),
        ("overrides.*.notches", "number", ("override",)),
        ("overrides.*.from_grade", "text", ("override",)),
        ("overrides.*.best", "text", ("override",)),
    ],
    "importer": [
        ("max_file_mb", "mb", ()),
        ("max_xlsx_unpacked_mb", "mb", ()),
        ("max_xlsx_ratio", "ratio", ()),
        ("max_xlsx_cells", "count", ()),
        ("max_xlsx_sparsity", "ratio", ()),
        ("max_upload_mb", "mb", ()),
        ("header_scan_rows", "count", ()),
        ("memory_limit", "text", ()),
        ("report_max_rows", "count", ()),
        ("preview_rows", "count", ()),
        ("codes.*.match", "code:match", ("codetable",)),
        # the second part's kind depends on the list: IMPORT_CODE_KINDS
        ("codes.*.*", "list", ("codetable", "importcode")),
    ],
    "auth": [
        ("max_failed_logins", "times", ()),
        ("lockout_minutes", "minutes", ()),
        ("session_minutes", "minutes", ()),
        ("session_max_hours", "hours", ()),
        ("password_min_length", "chars", ()),
        ("password_max_length", "chars", ()),
        ("password_min_kinds", "count", ()),
        ("password_max_age_days", "days", ()),
        ("argon2_time_cost", "number", ()),
        ("argon2_memory_kib", "kib", ()),
        ("argon2_parallelism", "number", ()),
    ],
}


@dataclass(frozen=True)
class Setting:
    """One value of settings.toml: ``[section] path = value``.

    ``pattern`` is ``path`` with its code parts as ``"*"``; ``codes`` holds (kind, code) for each
    of them, in order; ``kind`` says how the value is shown (``KINDS``, ``code:<kind>``,
    ``codes:<kind>``)."""

    section: str
    path: tuple[str, ...]
    value: object
    kind: str
    pattern: tuple[str, ...]
    codes: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """The key inside its section as written in the file: ``lines.platinum``."""
        return ".".join(self.path)

    @property
    def doc_key(self) -> str:
        """The string-table key of the explanation, without ``rules.``: the section and the
        fixed parts of the key (``tiers.lines`` for every tier's line)."""
        return ".".join((self.section, *(p for p in self.pattern if p != "*")))

    def name_parts(self) -> list[tuple[str, str]]:
        """The parts of the row's name, in order: ("name", doc key of a fixed part so far) for
        each fixed part, ("<code kind>", code) for each code. The view names the last fixed part
        always (with the raw key as fallback) and an earlier one only where the string table
        has a name for it (``rulename.allocation.scores`` "三性评分" in front of a category)."""
        parts: list[tuple[str, str]] = []
        fixed: list[str] = [self.section]
        codes = iter(self.codes)
        for part in self.pattern:
            if part == "*":
                parts.append(next(codes))
            else:
                fixed.append(part)
                parts.append(("name", ".".join(fixed)))
        return parts


def _leaves(table: dict, prefix: tuple[str, ...] = ()):
    """(path, value) of every value in a nested table; an empty table is a value of its own."""
    for key, value in table.items():
        path = (*prefix, str(key))
        if isinstance(value, dict) and value:
            yield from _leaves(value, path)
        else:
            yield path, value


def _guess(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        return "empty"
    if isinstance(value, list):
        return "list"
    return "text"


def _match(pattern: str, path: tuple[str, ...]) -> bool:
    parts = pattern.split(".")
    return len(parts) == len(path) and all(p in ("*", q) for p, q in zip(parts, path, strict=True))


def describe(section: str, path: tuple[str, ...], value: object) -> Setting:
    """The row of one value: its kind and code parts from ``SPEC``, else guessed."""
    for pattern, kind, code_kinds in SPEC.get(section, ()):
        if not _match(pattern, path):
            continue
        parts = tuple(pattern.split("."))
        codes = [q for p, q in zip(parts, path, strict=True) if p == "*"]
        kinds = [
            IMPORT_CODE_KINDS.get(codes[0], "raw") if k == "importcode" else k for k in code_kinds
        ]
        return Setting(section, path, value, kind, parts, tuple(zip(kinds, codes, strict=True)))
    return Setting(section, path, value, _guess(value), path)


def settings_doc(settings: dict) -> list[tuple[str, list[Setting]]]:
    """Every top-level section of ``settings`` (file order) with the rows of its values."""
    out = []
    for section, table in settings.items():
        if isinstance(table, dict):
            rows = [describe(section, path, value) for path, value in _leaves(table)]
        else:  # a bare value above the first section
            rows = [describe(section, (), table)]
        out.append((section, rows))
    return out


def spec_doc_keys() -> list[str]:
    """The explanation keys (without ``rules.``) of every pattern in ``SPEC``, in order, whether
    or not the settings in force use it (a band's ``safety_max``, say)."""
    seen: dict[str, None] = {}
    for section, patterns in SPEC.items():
        for pattern, _, _ in patterns:
            fixed = (p for p in pattern.split(".") if p != "*")
            seen.setdefault(".".join((section, *fixed)), None)
    return list(seen)


def doc_keys(settings: dict) -> list[str]:
    """Every explanation key (without ``rules.``) the settings need, once each, in order."""
    seen: dict[str, None] = {}
    for _, rows in settings_doc(settings):
        for row in rows:
            seen.setdefault(row.doc_key, None)
    return list(seen)
