"""Corporate credit scorecard (企业信用评分卡, DESIGN.md §3 "Corporate"): WOE binning + logistic
regression, points scaled by PDO, grades AAA…C, validated on a holdout, with rule-based overrides.

Every number (bin counts, minimum shares, IV limits, score scaling, grade cut-offs, override rules)
comes from ``[scorecard]`` in settings.toml, read with ``load_settings()``.

How a scorecard is built (``train_scorecard``):

0. **Population** (``training_population``, ``[scorecard] population``). ``"borrowers"`` (the
   default): only rows with a loan are trained on — a value > 0 in any of
   ``borrower_columns`` present in the table (loan balance at the as-of date, loan interest in
   12 months, overdue days), a missing value counting as 0. A company that never borrowed has no
   loan to default on, so its default flag does not describe credit risk. ``"all"``: every row.
   A table without any of the borrower columns (an upload of loan files: every row is a borrower)
   is used whole, rule code ``no_loan_columns``. What was left out is in ``Scorecard.population``.
1. **Validate.** The target column must exist (``missing_target``); rows with a missing target are
   left out; the remaining values must be exactly two, one of them ``bad_label``
   (``target_not_binary``; a bool/number target matches ``bad_label`` by equality, so ``True``
   matches 1, and otherwise by text, so "1" matches 1); at least ``min_rows`` rows
   (``too_few_rows``) and at least ``min_bad`` bads *and* ``min_bad`` goods (``too_few_bad``).
2. **Columns.** ``usable_columns`` sorts the candidate columns into numeric and categorical
   features and drops identifiers, free text, constants, empty and date columns (reason codes in
   ``Scorecard.dropped``). Nothing usable left: ``no_usable_features``. An identifier (a column
   named in ``[scorecard] identifier_columns``, such as the demo's ``corp_id``, or one holding a
   distinct value per row) is a row key, not a failed variable: it is listed in
   ``Scorecard.identifiers`` and the view names it as the row key, apart from
   ``Scorecard.unusable`` (free text, dates, constants, empty columns).
3. **Split.** Stratified train/holdout split (``holdout_share``, ``random_state`` = ``seed`` or
   ``[scorecard] seed``). Binning and the model only ever see the training rows.
4. **Bins and WOE** (training rows). WOE = ln(%good / %bad) per bin, each count smoothed by
   ``woe_smoothing`` (0.5) so an empty cell gives a finite WOE; bin IV = (%good − %bad) × WOE and a
   feature's IV is the sum over its bins.

   - *Numeric*: quantile pre-bins (``initial_bins``; edges are observed values), bins with fewer
     than ``min_bin_share`` of the non-missing rows merged into their smaller neighbour, then
     adjacent bins merged (the pair with the smallest WOE gap among the violations first) until
     WOE is strictly monotonic in the direction of the Spearman correlation between the feature
     and the bad flag (WOE falls as the bad rate rises; no correlation: whichever direction keeps
     more bins). Bins are (−inf, e1], (e1, e2], …, (ek, inf). Missing values get their own bin,
     outside the monotonic check.
   - *Categorical*: one bin per category; categories with less than ``rare_share`` of the rows go
     to the ``OTHER_BIN`` bin (unless only one is rare: it keeps its own bin, as there is nothing
     to pool it with), missing values to the ``MISSING_BIN`` bin. Booleans are
     categorical (bins "True" / "False"): the WOE is the same as for a 0/1 number, and a missing
     value keeps its own bin.
5. **Selection.** Features with IV < ``min_iv`` are dropped as ``weak``; IV > ``max_iv`` is
   flagged ``suspicious`` (a possible target leak) but kept.
6. **Model.** ``LogisticRegression`` (lbfgs, ``C``, ``max_iter``) on the WOE values, target 1 =
   bad. A feature whose coefficient comes out ≥ 0 (more bad where the bin is safer: collinearity
   with another feature) is dropped as ``wrong_sign`` and the model refitted, so that every bin's
   points rise with its WOE. With no feature left the model is intercept-only (the training bad
   rate for everyone): a target the features cannot predict gives a scorecard with AUC 0.5, not
   an error.
7. **Points.** factor = PDO / ln 2, offset = base_score − factor × ln(base_odds) (odds good:bad);
   score = offset − factor × logit(P(bad)). The intercept is kept in one base row
   (``BASE_ROW``: offset − factor × intercept) and each bin gets −factor × coefficient × WOE, so a
   client's score is the base points plus one bin's points per feature, and a WOE of 0 (neutral)
   is worth 0 points.
8. **Grades** by calibrated probability of default (PD), not by points. The model's log-odds are
   calibrated on the training rows by Platt scaling (an unpenalised logistic regression of the bad
   flag on the model's logit: PD = 1 / (1 + exp(−(a + b·logit))); identity when the card is
   intercept-only or the fitted slope is not positive), so the mean PD of the training rows is
   their bad rate and the spread is not shrunk by the model's L2 penalty. Each grade is a PD band
   (``[scorecard.grade_pd]``: the highest PD of each grade, AAA…CC increasing; C is everything
   above CC): a client's grade is the best grade whose upper PD it does not exceed. Calibration
   is monotone, so a better score never gets a worse grade; the bands are absolute, so a
   population the features cannot separate (holdout AUC near 0.5) still sits in few grades.
9. **Validation** on the holdout: AUC (``roc_auc_score`` on P(bad)), KS = max |TPR − FPR|,
   Gini = 2·AUC − 1; PSI of the score between the training rows and the holdout (``psi_bins``
   bins at training quantiles, counts smoothed by ``woe_smoothing``); AUC on the training rows too.

Scoring (``Scorecard.score``): a value the card has no bin for gets WOE 0, i.e. 0 points (the
average): a missing value when training saw none, a feature column absent from the frame, an
unseen category when no rare categories were merged into ``OTHER_BIN`` (with that bin, unseen
categories take its WOE).

Overrides (``apply_overrides``) run after the model: rules in ``[scorecard.overrides]``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

from analytics.access import AccessDenied, Scope, may
from analytics.privacy import mask_notes
from analytics.settings import load_settings
from analytics.store import Database

# Best first. Upper PD of all but the last in [scorecard.grade_pd].
GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C")
# Bin labels of the missing values and of the merged rare categories (parenthesised so that a
# real category is unlikely to collide with them).
MISSING_BIN = "(missing)"
OTHER_BIN = "(other)"
# ``Scorecard.table`` row holding the base points (the intercept).
BASE_ROW = "(base)"

# Reason codes of ``Scorecard.dropped`` / ``Scorecard.iv``.
DROP_REASONS = (
    "identifier",
    "free_text",
    "constant",
    "empty",
    "date",
    "weak",
    "wrong_sign",
)
# Reason codes of ``Scorecard.population["rule"]`` (training_population).
POPULATION_RULES = ("borrowers", "all", "no_loan_columns")
ERROR_CODES = (
    "missing_target",
    "target_not_binary",
    "too_few_bad",
    "no_usable_features",
    "too_few_rows",
)

# An integer column named like an identifier (corp_id, client_no, code, ...).
_ID_NAME = re.compile(r"(^|_)(id|no|code|number|key)$|id$", re.IGNORECASE)
# A date written as text: 2026-10-31, 2026/10/31, 2026-10-31 12:00.
_DATE_TEXT = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T].*)?$")
_TRUE_TEXT = {"true", "t", "yes", "y", "1", "是", "有"}


class ScorecardInputError(ValueError):
    """The table cannot give a scorecard. ``code`` (one of ``ERROR_CODES``) and ``fields`` (the
    numbers behind it) let the UI say why in its own language; ``str(e)`` is English."""

    def __init__(self, code: str, message: str, **fields):
        super().__init__(message)
        self.code = code
        self.fields = fields


# -- columns ---------------------------------------------------------------------------------


def _config(settings: dict | None) -> dict:
    return (settings or load_settings())["scorecard"]


def _text(s: pd.Series) -> pd.Series:
    """Non-missing values as stripped strings; empty strings count as missing."""
    t = s.dropna().astype(str).str.strip()
    return t[t != ""]


def _coerce_numeric(s: pd.Series) -> pd.Series:
    """Numbers of a numeric or numeric-looking text column; what does not parse becomes NaN."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    # "12.5" parses; "1,234" and "12 万" do not (a thousands separator or a unit is a text format
    # we will not guess at).
    return pd.to_numeric(s.astype(object).where(s.notna()).map(_strip), errors="coerce").astype(
        float
    )


def _strip(v):
    return v.strip() if isinstance(v, str) else v


def _is_dates(s: pd.Series, share: float) -> bool:
    if pd.api.types.is_datetime64_any_dtype(s):
        return True
    vals = s.dropna()
    if vals.empty or pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return False
    is_date = vals.map(lambda v: isinstance(v, dt.date | np.datetime64))
    if is_date.mean() >= share:
        return True
    t = _text(s)
    return not t.empty and t.str.match(_DATE_TEXT).mean() >= share


def usable_columns(
    df: pd.DataFrame, target: str, exclude=(), settings: dict | None = None
) -> tuple[list[str], list[str], dict[str, str]]:
    """Sort the columns of ``df`` (except ``target`` and ``exclude``) into model features.

    Returns (numeric, categorical, dropped) where dropped maps a column to its reason code:

    - ``identifier`` by name: a column named in ``identifier_columns`` (case-insensitive), whatever
      its values (checked first).
    - ``empty``: no value at all.
    - ``date``: datetime values, date objects or text dates (2026-10-31) in at least
      ``numeric_parse_share`` of the values (a date is not a risk driver as such; derive an age).
    - ``constant``: one distinct value.
    - ``identifier``: a distinct value in at least ``identifier_min_distinct_share`` of at least
      ``identifier_min_rows`` rows — text that reads as a code (letters, digits, - _ . , /; a note
      typed in Chinese is free text), or integers named like an id
      (``corp_id``, ``client_no``) or numbered nearly consecutively. Float columns never are.
    - ``free_text``: text with more than ``max_categories`` distinct values that is not an
      identifier, or whose median length reaches ``free_text_min_length``.

    Numeric: number columns and text columns where at least ``numeric_parse_share`` of the
    non-empty values parse as numbers ("12.5" does, "1,234" does not). Categorical: the other text
    columns and booleans (see the module docstring).
    """
    cfg = _config(settings)
    parse_share = float(cfg["numeric_parse_share"])
    id_share = float(cfg["identifier_min_distinct_share"])
    id_rows = int(cfg["identifier_min_rows"])
    max_cats = int(cfg["max_categories"])
    text_len = int(cfg["free_text_min_length"])
    skip = {target, *exclude}
    id_names = {str(c).strip().lower() for c in cfg.get("identifier_columns", ())}
    numeric: list[str] = []
    categorical: list[str] = []
    dropped: dict[str, str] = {}
    for col in df.columns:
        if col in skip:
            continue
        if str(col).strip().lower() in id_names:
            dropped[col] = "identifier"
            continue
        s = df[col]
        plain = pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
        # anything but numbers and booleans is looked at as text (str, object, category, ...)
        values = s.dropna() if plain else _text(s)
        n = len(values)
        if n == 0:
            dropped[col] = "empty"
            continue
        if _is_dates(s, parse_share):
            dropped[col] = "date"
            continue
        if pd.api.types.is_bool_dtype(s):
            if values.nunique() > 1:
                categorical.append(col)
            else:
                dropped[col] = "constant"
            continue
        if pd.api.types.is_numeric_dtype(s):
            distinct = values.nunique()
            if distinct == 1:
                dropped[col] = "constant"
            elif pd.api.types.is_integer_dtype(s) and _looks_like_int_id(
                str(col), values, id_share, id_rows
            ):
                dropped[col] = "identifier"
            else:
                numeric.append(col)
            continue
        # text (or mixed objects): numbers written as text?
        parsed = pd.to_numeric(values, errors="coerce")
        if parsed.notna().mean() >= parse_share:
            if parsed.nunique() <= 1:
                dropped[col] = "constant"
            elif bool((parsed.dropna() % 1 == 0).all()) and _looks_like_int_id(
                str(col), parsed.dropna(), id_share, id_rows
            ):
                dropped[col] = "identifier"
            else:
                numeric.append(col)
            continue
        distinct = values.nunique()
        if distinct == 1:
            dropped[col] = "constant"
        elif values.str.len().median() >= text_len:
            dropped[col] = "free_text"
        elif distinct > max_cats:
            # an identifier reads as a code (letters, digits, - _ . /); a note typed in Chinese
            # has no spaces but is free text all the same
            code_like = values.str.fullmatch(r"[A-Za-z0-9_\-.,/]+").mean()
            if distinct >= id_share * n and n >= id_rows and code_like >= 0.5:
                dropped[col] = "identifier"
            else:
                dropped[col] = "free_text"
        else:
            categorical.append(col)
    return numeric, categorical, dropped


def _looks_like_int_id(name: str, values: pd.Series, share: float, min_rows: int) -> bool:
    # A count or an amount in whole yuan can also be nearly all distinct: an integer column is an
    # identifier only when its name says so or its values are (nearly) a running number.
    n = len(values)
    distinct = values.nunique()
    if n < min_rows or distinct < share * n:
        return False
    span = float(values.max()) - float(values.min()) + 1
    return bool(_ID_NAME.search(name)) or span <= 2 * distinct


# -- binning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureBinning:
    """How one feature maps to WOE. Numeric: ``edges`` are the upper edges of all bins but the
    last ((−inf, e1], (e1, e2], …), ``woe`` one value per bin, ``missing_woe`` the missing bin's
    (None: no missing bin). Categorical: ``categories`` maps each category seen in training to its
    bin label (itself or ``OTHER_BIN``), ``category_woe`` each bin label to its WOE (missing values
    under ``MISSING_BIN``)."""

    feature: str
    kind: str  # "numeric" | "categorical"
    iv: float
    bins: pd.DataFrame  # bin, lower, upper, count, bad, bad_rate, woe, iv
    edges: tuple[float, ...] = ()
    woe: tuple[float, ...] = ()
    missing_woe: float | None = None
    categories: dict[str, str] = field(default_factory=dict)
    category_woe: dict[str, float] = field(default_factory=dict)

    def transform(self, s: pd.Series | None, n: int) -> np.ndarray:
        """WOE of each value of ``s`` (``None``: the column is absent, every row missing)."""
        if self.kind == "numeric":
            x = np.full(n, np.nan) if s is None else _coerce_numeric(s).to_numpy(float)
            out = np.asarray(self.woe, float)[np.searchsorted(self.edges, x, side="left")]
            miss = np.isnan(x)
            out[miss] = 0.0 if self.missing_woe is None else self.missing_woe
            return out
        keys = pd.Series([None] * n, dtype=object) if s is None else _category_keys(s)
        other = self.category_woe.get(OTHER_BIN, 0.0)
        missing = self.category_woe.get(MISSING_BIN, 0.0)
        woe = {k: self.category_woe[b] for k, b in self.categories.items()}
        return np.array(
            [missing if k is None else woe.get(k, other) for k in keys.tolist()], dtype=float
        )


def _category_keys(s: pd.Series) -> pd.Series:
    """Category of each value as stripped text (True -> "True"); missing or empty -> None."""

    def key(v):
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
            return None
        return str(v).strip() or None

    # A plain list and object dtype: pandas would turn None back into NaN in a str column.
    return pd.Series([key(v) for v in s.astype(object).tolist()], index=s.index, dtype=object)


def _woe_iv(good: np.ndarray, bad: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """WOE and bin IV per bin, each cell count smoothed by ``alpha``."""
    k = len(good)
    pg = (good + alpha) / (good.sum() + alpha * k)
    pb = (bad + alpha) / (bad.sum() + alpha * k)
    woe = np.log(pg / pb)
    return woe, (pg - pb) * woe


def _fmt(v: float) -> str:
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return np.format_float_positional(v, precision=6, unique=True, fractional=False, trim="-")


def _bin_numeric(x: np.ndarray, y: np.ndarray, name: str, cfg: dict) -> FeatureBinning:
    """Monotonic WOE bins of one numeric feature on the training rows (see module docstring)."""
    alpha = float(cfg["woe_smoothing"])
    miss = np.isnan(x)
    xv, yv = x[~miss], y[~miss]
    if xv.size:
        qs = np.linspace(0, 1, int(cfg["initial_bins"]) + 1)[1:-1]
        # Observed values as edges: bins (a, b] then hold exactly the values up to an edge.
        edges = np.unique(np.quantile(xv, qs, method="lower"))
        edges = list(edges[edges < xv.max()])
    else:
        edges = []

    def counts(e):
        idx = np.searchsorted(e, xv, side="left")
        total = np.bincount(idx, minlength=len(e) + 1).astype(float)
        bads = np.bincount(idx, weights=yv, minlength=len(e) + 1)
        return total - bads, bads

    # Small pre-bins first: a bin under min_bin_share joins its smaller neighbour.
    min_count = float(cfg["min_bin_share"]) * xv.size
    while edges:
        g, b = counts(edges)
        tot = g + b
        i = int(np.argmin(tot))
        if tot[i] >= min_count:
            break
        if i == 0:
            j = 0
        elif i == len(tot) - 1:
            j = i - 1
        else:
            j = i - 1 if tot[i - 1] <= tot[i + 1] else i
        del edges[j]  # removes the edge between bins j and j + 1

    def monotonic(e, direction):
        e = list(e)
        while e:
            g, b = counts(e)
            w, _ = _woe_iv(g, b, alpha)
            steps = np.diff(w) * direction
            bad_steps = np.flatnonzero(steps <= 0)
            if bad_steps.size == 0:
                break
            j = bad_steps[np.argmin(np.abs(np.diff(w))[bad_steps])]
            del e[int(j)]
        return e

    rho = spearmanr(xv, yv).statistic if xv.size > 2 and np.ptp(xv) > 0 else np.nan
    if np.isfinite(rho) and rho != 0:
        # More bads with larger values -> WOE (ln good/bad) decreases.
        edges = monotonic(edges, -1.0 if rho > 0 else 1.0)
    else:
        up, down = monotonic(edges, 1.0), monotonic(edges, -1.0)
        edges = up if len(up) >= len(down) else down

    g, b = counts(edges)
    has_missing = bool(miss.any())
    if has_missing:
        g = np.append(g, float((y[miss] == 0).sum()))
        b = np.append(b, float(y[miss].sum()))
    woe, biv = _woe_iv(g, b, alpha)
    lower = [-np.inf, *edges]
    upper = [*edges, np.inf]
    # (lo, up] except the last bin, open at infinity: (ek, inf)
    labels = [
        f"({_fmt(lo)}, {_fmt(up)}" + (")" if math.isinf(up) else "]")
        for lo, up in zip(lower, upper, strict=True)
    ]
    if has_missing:
        labels.append(MISSING_BIN)
        lower.append(np.nan)
        upper.append(np.nan)
    bins = _bins_frame(labels, lower, upper, g, b, woe, biv)
    nb = len(edges) + 1
    return FeatureBinning(
        feature=name,
        kind="numeric",
        iv=float(biv.sum()),
        bins=bins,
        edges=tuple(float(e) for e in edges),
        woe=tuple(float(w) for w in woe[:nb]),
        missing_woe=float(woe[nb]) if has_missing else None,
    )


def _bin_categorical(s: pd.Series, y: np.ndarray, name: str, cfg: dict) -> FeatureBinning:
    """One bin per category (rare ones pooled in ``OTHER_BIN``) on the training rows."""
    alpha = float(cfg["woe_smoothing"])
    keys = _category_keys(s).to_numpy(object)
    present = np.array([k is not None for k in keys])
    cats, cat_counts = np.unique(keys[present].astype(str), return_counts=True)
    rare = set(cats[cat_counts < float(cfg["rare_share"]) * len(keys)])
    if len(rare) == 1:
        # Pooling one category with nothing gains nothing: it keeps its own bin (and an unseen
        # category then scores WOE 0 rather than this one category's WOE).
        rare = set()
    mapping = {c: (OTHER_BIN if c in rare else c) for c in cats}
    labels = [c for c in cats if c not in rare]
    # Bins: categories in sorted order, then the pooled and the missing bin.
    bin_of = np.array([MISSING_BIN if k is None else mapping[k] for k in keys], dtype=object)
    order = labels + ([OTHER_BIN] if rare else []) + ([MISSING_BIN] if (~present).any() else [])
    g = np.array([float(((bin_of == lab) & (y == 0)).sum()) for lab in order])
    b = np.array([float(((bin_of == lab) & (y == 1)).sum()) for lab in order])
    woe, biv = _woe_iv(g, b, alpha)
    nan = [np.nan] * len(order)
    bins = _bins_frame(order, nan, nan, g, b, woe, biv)
    return FeatureBinning(
        feature=name,
        kind="categorical",
        iv=float(biv.sum()),
        bins=bins,
        categories=mapping,
        category_woe={lab: float(w) for lab, w in zip(order, woe, strict=True)},
    )


def _bins_frame(labels, lower, upper, g, b, woe, biv) -> pd.DataFrame:
    count = g + b
    return pd.DataFrame(
        {
            "bin": labels,
            "lower": np.asarray(lower, float),
            "upper": np.asarray(upper, float),
            "count": count.astype(int),
            "bad": b.astype(int),
            "bad_rate": np.divide(b, count, out=np.full(len(count), np.nan), where=count > 0),
            "woe": woe,
            "iv": biv,
        }
    )


# -- metrics ---------------------------------------------------------------------------------


def ks_statistic(y_bad, p_bad) -> float:
    """Kolmogorov–Smirnov: the largest |TPR − FPR| over all cut-offs of ``p_bad`` (1.0 = the
    score separates bads from goods perfectly, 0 = not at all). NaN if one class is absent."""
    y = np.asarray(y_bad).astype(int)
    if y.min(initial=1) == y.max(initial=0):
        return float("nan")
    fpr, tpr, _ = roc_curve(y, np.asarray(p_bad, float))
    return float(np.max(np.abs(tpr - fpr)))


def auc_score(y_bad, p_bad) -> float:
    """Area under the ROC curve of ``p_bad`` for the bad flag (sklearn ``roc_auc_score``); NaN if
    one class is absent. A constant ``p_bad`` gives 0.5."""
    y = np.asarray(y_bad).astype(int)
    if y.min(initial=1) == y.max(initial=0):
        return float("nan")
    return float(roc_auc_score(y, np.asarray(p_bad, float)))


def population_stability(expected, actual, bins: int = 10, smoothing: float = 0.5) -> float:
    """PSI = Σ (a − e) · ln(a / e) over ``bins`` bins cut at the quantiles of ``expected``
    (duplicate cuts merged); each bin's count is smoothed by ``smoothing`` so an empty bin stays
    finite. Rule of thumb: < 0.1 stable, 0.1–0.25 watch, > 0.25 shifted."""
    e = np.asarray(expected, float)
    a = np.asarray(actual, float)
    if e.size == 0 or a.size == 0:
        return float("nan")
    cuts = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)[1:-1]))
    # A cut at the largest expected value would leave a bin empty by construction (bins are
    # (a, b]); dropping it keeps a constant score at PSI 0.
    cuts = cuts[cuts < e.max()]
    k = len(cuts) + 1
    ce = np.bincount(np.searchsorted(cuts, e, side="left"), minlength=k) + smoothing
    ca = np.bincount(np.searchsorted(cuts, a, side="left"), minlength=k) + smoothing
    pe, pa = ce / ce.sum(), ca / ca.sum()
    return float(np.sum((pa - pe) * np.log(pa / pe)))


# -- the scorecard ---------------------------------------------------------------------------


@dataclass
class Scorecard:
    """A trained scorecard and its validation (see the module docstring for the method).

    ``table``: one row per bin of each kept feature (feature, bin, lower, upper, count, bad,
    bad_rate, woe, iv, points; counts on the training rows) after a first ``BASE_ROW`` row with
    the base points. ``iv``: every binned feature with its IV, whether it was kept and why not
    (``weak``, ``wrong_sign``) or why it is flagged (``suspicious``). ``dropped``: column → reason
    code for every candidate column not in the model (``identifiers`` and ``unusable`` split it
    for the view). ``calibration``: Platt (a, b) of the PD (module docstring, step 8).
    ``grade_pd``: the highest PD of each grade but C. ``population``: the training population
    (``training_population``): rule code, rows in the table, rows left out and the bads among them.
    """

    table: pd.DataFrame
    iv: pd.DataFrame
    dropped: dict[str, str]
    auc: float
    ks: float
    gini: float
    psi: float
    train_auc: float
    n_train: int
    n_holdout: int
    bad_rate: float
    seed: int
    target: str
    bad_label: object
    features: list[str]
    coefficients: dict[str, float]
    intercept: float
    binning: dict[str, FeatureBinning]
    factor: float
    offset: float
    base_points: float
    grade_pd: dict[str, float]
    calibration: tuple[float, float] = (0.0, 1.0)
    population: dict = field(default_factory=dict)

    @property
    def identifiers(self) -> list[str]:
        """Columns recognised as row identifiers (row keys, not variables)."""
        return [c for c, r in self.dropped.items() if r == "identifier"]

    @property
    def unusable(self) -> dict[str, str]:
        """Columns that could not be used as variables (free text, dates, constants, empty),
        with their reason codes: not identifiers, not variables screened out by IV or sign."""
        keep_out = ("identifier", "weak", "wrong_sign")
        return {c: r for c, r in self.dropped.items() if r not in keep_out}

    def pd_of(self, logit: np.ndarray) -> np.ndarray:
        """Calibrated probability of default for model log-odds ``logit``."""
        a, b = self.calibration
        return 1.0 / (1.0 + np.exp(-(a + b * np.asarray(logit, float))))

    def woe_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """WOE of every kept feature for the rows of ``df`` (same index)."""
        n = len(df)
        woe = {f: self.binning[f].transform(df.get(f), n) for f in self.features}
        return pd.DataFrame(woe, index=df.index)

    def points_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """The points each kept feature gives each row of ``df`` (−factor × coefficient × WOE);
        with ``base_points`` they add up to the row's score."""
        w = self.woe_frame(df)
        return pd.DataFrame(
            {f: -self.factor * self.coefficients[f] * w[f] for f in self.features}, index=df.index
        )

    def logit(self, df: pd.DataFrame) -> np.ndarray:
        """Log-odds of bad for each row of ``df``."""
        w = self.woe_frame(df).to_numpy(float)
        coef = np.array([self.coefficients[f] for f in self.features], float)
        return self.intercept + (w @ coef if self.features else np.zeros(len(df)))

    def score(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df`` with four more columns: ``score`` (points, 1 decimal: base points + one bin's
        points per feature), ``prob_bad`` (the model's probability of bad), ``pd`` (the calibrated
        probability of default) and ``grade`` (the PD band of ``pd``, ``grade_of``). Values
        without a bin score 0 points (module docstring)."""
        lg = self.logit(df)
        out = df.copy()
        out["score"] = np.round(self.offset - self.factor * lg, 1)
        out["prob_bad"] = 1.0 / (1.0 + np.exp(-lg))
        out["pd"] = self.pd_of(lg)
        out["grade"] = grade_of(out["pd"].to_numpy(float), self.grade_pd)
        return out

    def grade_distribution(self, scored: pd.DataFrame, column: str = "grade") -> pd.DataFrame:
        """Clients per grade, AAA first (every grade listed): grade, pd_max (the band's upper
        PD; NaN for C), clients, share, mean prob_bad, mean pd, and bad_rate (observed, when the target column is in ``scored``; NaN for an
        empty grade). ``column`` may be ``final_grade`` after ``apply_overrides``."""
        g = scored[column]
        rows = []
        has_target = self.target in scored.columns
        bad = _bad_flag(scored[self.target], self.bad_label) if has_target else None
        for grade in GRADES:
            m = (g == grade).to_numpy()
            n = int(m.sum())
            row = {
                "grade": grade,
                "pd_max": float(self.grade_pd[grade]) if grade in self.grade_pd else np.nan,
                "clients": n,
                "share": n / len(scored) if len(scored) else np.nan,
                "prob_bad": float(scored["prob_bad"].to_numpy()[m].mean()) if n else np.nan,
                "pd": float(scored["pd"].to_numpy()[m].mean()) if n else np.nan,
            }
            if has_target:
                known = m & ~np.isnan(bad)
                row["bad_rate"] = float(bad[known].mean()) if known.any() else np.nan
            rows.append(row)
        return pd.DataFrame(rows)


def grade_of(pd_values: np.ndarray, bands: dict[str, float]) -> np.ndarray:
    """Grade of each calibrated PD: the best grade whose upper PD (``[scorecard.grade_pd]``) it
    does not exceed; above CC's, C."""
    p = np.asarray(pd_values, float)
    out = np.full(len(p), GRADES[-1], dtype=object)
    for grade in reversed(GRADES[:-1]):
        out[p <= float(bands[grade])] = grade
    return out


def _grade_bands(cfg: dict) -> dict[str, float]:
    bands = {g: float(cfg["grade_pd"][g]) for g in GRADES[:-1]}
    values = list(bands.values())
    if any(b <= a for a, b in zip(values, values[1:], strict=False)) or not values[0] > 0:
        raise ValueError("[scorecard.grade_pd] must rise strictly from AAA to CC")
    return bands


def _platt(logit: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) of PD = sigmoid(a + b·logit) fitted on the training rows; identity when the logit
    is constant or the slope comes out not positive."""
    if np.ptp(logit) == 0:
        return 0.0, 1.0
    m = LogisticRegression(C=np.inf, solver="lbfgs", max_iter=1000).fit(logit[:, None], y)
    b = float(m.coef_[0][0])
    return (float(m.intercept_[0]), b) if b > 0 else (0.0, 1.0)


def training_population(
    df: pd.DataFrame, settings: dict | None = None
) -> tuple[np.ndarray, str, list[str]]:
    """Which rows of ``df`` the scorecard trains on (``[scorecard] population``, module
    docstring step 0): (boolean mask, rule code in ``POPULATION_RULES``, the borrower columns
    found). ``borrowers``: a row with a value > 0 in any ``borrower_columns`` present (missing
    counts as 0); ``no_loan_columns``: none present, every row kept; ``all``: every row."""
    cfg = _config(settings)
    rule = str(cfg.get("population", "borrowers"))
    if rule not in ("borrowers", "all"):
        raise ValueError(f"[scorecard] population must be 'borrowers' or 'all', not {rule!r}")
    everyone = np.ones(len(df), dtype=bool)
    if rule == "all":
        return everyone, "all", []
    cols = [c for c in cfg.get("borrower_columns", ()) if c in df.columns]
    if not cols:
        return everyone, "no_loan_columns", []
    values = np.column_stack([_coerce_numeric(df[c]).fillna(0).to_numpy(float) for c in cols])
    return (values > 0).any(axis=1), "borrowers", cols


def _bad_flag(target: pd.Series, bad_label) -> np.ndarray:
    """1.0 for bad, 0.0 for good, NaN for a missing target."""
    vals = target.to_numpy(object)
    out = np.full(len(vals), np.nan)
    for i, v in enumerate(vals):
        if not pd.isna(v):
            out[i] = 1.0 if _same_label(v, bad_label) else 0.0
    return out


def _same_label(value, label) -> bool:
    try:
        if value == label:
            return True
    except (TypeError, ValueError):
        pass
    return str(value).strip() == str(label).strip()


def _check_target(df: pd.DataFrame, target: str, bad_label, cfg: dict) -> np.ndarray:
    if target not in df.columns:
        raise ScorecardInputError(
            "missing_target", f"the table has no column {target!r}", target=target
        )
    t = df[target]
    seen = pd.unique(t.dropna())
    values = sorted((v.item() if hasattr(v, "item") else v for v in seen), key=str)
    if len(values) != 2 or sum(_same_label(v, bad_label) for v in values) != 1:
        raise ScorecardInputError(
            "target_not_binary",
            f"target {target!r} must have exactly two values, one of them {bad_label!r}; "
            f"it has {values[:10]!r}" + (" ..." if len(values) > 10 else ""),
            target=target,
            values=values[:10],
            n_values=len(values),
            bad_label=bad_label,
        )
    y = _bad_flag(t, bad_label)
    n = int((~np.isnan(y)).sum())
    if n < int(cfg["min_rows"]):
        raise ScorecardInputError(
            "too_few_rows",
            f"{n} rows with a target; at least {cfg['min_rows']} are needed",
            target=target,
            rows=n,
            minimum=int(cfg["min_rows"]),
        )
    bad = int(np.nansum(y))
    good = n - bad
    minimum = int(cfg["min_bad"])
    if bad < minimum or good < minimum:
        raise ScorecardInputError(
            "too_few_bad",
            f"{bad} bad and {good} good rows; at least {minimum} of each are needed",
            target=target,
            bad_label=bad_label,
            bad=bad,
            good=good,
            minimum=minimum,
        )
    return y


def train_scorecard(
    df: pd.DataFrame,
    target: str,
    bad_label=1,
    features: list[str] | None = None,
    seed: int | None = None,
    settings: dict | None = None,
) -> Scorecard:
    """Train and validate a scorecard for ``target`` (``bad_label`` = the bad class) on ``df``.

    ``features``: candidate columns (default: every column but the target); they still go
    through ``usable_columns`` (a requested column absent from ``df`` is dropped as ``empty``).
    ``seed``: the split's random state (default ``[scorecard] seed``); the same seed and data give
    the same scorecard. ``settings``: the whole settings dict (default ``load_settings()``).
    Raises ``ScorecardInputError`` (codes in ``ERROR_CODES``). Method: module docstring.
    """
    cfg = _config(settings)
    borrower, rule, loan_cols = training_population(df, settings)
    left_out = df.loc[~borrower]
    df = df.loc[borrower]
    y_all = _check_target(df, target, bad_label, cfg)
    population = {
        "rule": rule,
        "columns": loan_cols,
        "rows": len(df) + len(left_out),
        "excluded": len(left_out),
        "excluded_bad": int(np.nansum(_bad_flag(left_out[target], bad_label))),
    }
    keep = ~np.isnan(y_all)
    data = df.loc[keep]
    y = y_all[keep].astype(int)

    candidates = [c for c in df.columns if c != target] if features is None else list(features)
    absent = {c: "empty" for c in candidates if c not in df.columns}
    present = [c for c in candidates if c in df.columns and c != target]
    numeric, categorical, dropped = usable_columns(data[present], target, settings=settings)
    dropped = {**dropped, **absent}
    if not numeric and not categorical:
        raise ScorecardInputError(
            "no_usable_features",
            "no column can be used as a feature" + (f": {dropped}" if dropped else ""),
            target=target,
            dropped=dropped,
        )

    seed = int(cfg["seed"] if seed is None else seed)
    idx = np.arange(len(data))
    try:
        tr, ho = train_test_split(
            idx, test_size=float(cfg["holdout_share"]), random_state=seed, stratify=y
        )
    except ValueError as e:  # a class too small to appear on both sides
        raise ScorecardInputError(
            "too_few_rows",
            f"cannot split the rows: {e}",
            target=target,
            rows=len(data),
            minimum=int(cfg["min_rows"]),
        ) from e
    tr, ho = np.sort(tr), np.sort(ho)
    train, hold = data.iloc[tr], data.iloc[ho]
    y_tr, y_ho = y[tr], y[ho]

    binning: dict[str, FeatureBinning] = {}
    for col in present:  # keep the table's column order
        if col in numeric:
            x = _coerce_numeric(train[col]).to_numpy(float)
            binning[col] = _bin_numeric(x, y_tr, col, cfg)
        elif col in categorical:
            binning[col] = _bin_categorical(train[col], y_tr, col, cfg)

    min_iv, max_iv = float(cfg["min_iv"]), float(cfg["max_iv"])
    reasons: dict[str, str | None] = {}
    for col, b in binning.items():
        reasons[col] = "weak" if b.iv < min_iv else ("suspicious" if b.iv > max_iv else None)
    kept = [c for c in binning if reasons[c] != "weak"]

    # Fit; drop a wrong-signed feature (the most positive coefficient) and refit until none.
    woe_tr = {c: binning[c].transform(train[c], len(train)) for c in kept}
    model_cfg = dict(C=float(cfg["C"]), solver="lbfgs", max_iter=int(cfg["max_iter"]))
    while kept:
        model = LogisticRegression(**model_cfg)
        model.fit(np.column_stack([woe_tr[c] for c in kept]), y_tr)
        coef = model.coef_[0]
        if (coef < 0).all():
            coefficients = {c: float(v) for c, v in zip(kept, coef, strict=True)}
            intercept = float(model.intercept_[0])
            break
        worst = kept[int(np.argmax(coef))]
        reasons[worst] = "wrong_sign"
        kept.remove(worst)
    if not kept:
        # Intercept-only: everyone gets the training bad rate.
        coefficients = {}
        rate = float(y_tr.mean())
        intercept = float(np.log(rate / (1 - rate)))

    factor = float(cfg["pdo"]) / math.log(2)
    offset = float(cfg["base_score"]) - factor * math.log(float(cfg["base_odds"]))
    base_points = offset - factor * intercept
    bands = _grade_bands(cfg)

    rows = [
        pd.DataFrame(
            {
                "feature": [BASE_ROW],
                "bin": [""],
                "lower": [np.nan],
                "upper": [np.nan],
                "count": [len(train)],
                "bad": [int(y_tr.sum())],
                "bad_rate": [float(y_tr.mean())],
                "woe": [np.nan],
                "iv": [np.nan],
                "points": [base_points],
            }
        )
    ]
    for c in kept:
        t = binning[c].bins.copy()
        t.insert(0, "feature", c)
        t["points"] = -factor * coefficients[c] * t["woe"]
        rows.append(t)
    table = pd.concat(rows, ignore_index=True)

    iv = pd.DataFrame(
        {
            "feature": list(binning),
            "iv": [binning[c].iv for c in binning],
            "kept": [c in kept for c in binning],
            "reason": pd.Series([reasons[c] for c in binning], dtype=object),
        }
    )
    iv = iv.sort_values(["iv", "feature"], ascending=[False, True], ignore_index=True)
    dropped.update({c: r for c, r in reasons.items() if c not in kept})

    card = Scorecard(
        table=table,
        iv=iv,
        dropped=dropped,
        auc=float("nan"),
        ks=float("nan"),
        gini=float("nan"),
        psi=float("nan"),
        train_auc=float("nan"),
        n_train=len(train),
        n_holdout=len(hold),
        bad_rate=float(y.mean()),
        seed=seed,
        target=target,
        bad_label=bad_label,
        features=kept,
        coefficients=coefficients,
        intercept=intercept,
        binning={c: binning[c] for c in kept},
        factor=factor,
        offset=offset,
        base_points=base_points,
        grade_pd=bands,
        population=population,
    )
    lg_tr, lg_ho = card.logit(train), card.logit(hold)
    if kept:
        card.calibration = _platt(lg_tr, y_tr)
    p_ho = 1.0 / (1.0 + np.exp(-lg_ho))
    card.auc = auc_score(y_ho, p_ho)
    card.ks = ks_statistic(y_ho, p_ho)
    card.gini = 2 * card.auc - 1
    card.train_auc = auc_score(y_tr, lg_tr)
    card.psi = population_stability(
        offset - factor * lg_tr,
        offset - factor * lg_ho,
        bins=int(cfg["psi_bins"]),
        smoothing=float(cfg["woe_smoothing"]),
    )
    return card


# -- overrides -------------------------------------------------------------------------------


def override_rules(settings: dict | None = None) -> list[dict]:
    """The rules of ``[scorecard.overrides]``, each a dict with its ``code`` (the table's key)."""
    return [{"code": code, **rule} for code, rule in _config(settings)["overrides"].items()]


def _truthy(s: pd.Series) -> np.ndarray:
    def one(v) -> bool:
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return False
        if isinstance(v, bool | np.bool_):
            return bool(v)
        if isinstance(v, int | float | np.integer | np.floating):
            return v != 0
        return str(v).strip().lower() in _TRUE_TEXT

    return np.array([one(v) for v in s.astype(object).tolist()], dtype=bool)


def apply_overrides(scored: pd.DataFrame, rules: list[dict] | None = None) -> pd.DataFrame:
    """Rule-based overrides after the model (default rules: ``[scorecard.overrides]``).

    A rule fires on a row when its ``column`` is true there (True, non-zero, "yes"/"true"/"y"/"1"/
    "是"); a rule whose column is absent from ``scored`` is skipped. Actions:

    - ``upgrade``: ``notches`` grades better, never better than ``best`` (default AAA), only for
      rows whose model grade is ``from_grade`` or worse (default: any grade);
    - ``cap``: the grade is no better than ``grade``.

    Upgrades run first and caps after them, so a cap always wins. Adds ``model_grade`` (the
    ``grade`` column), ``final_grade``, ``override`` (code of the rule that made the last change to
    the grade; None when the final grade is the model's) and ``override_reason_code`` (that rule's
    ``reason``, a code for the UI to translate; defaults to the rule code).
    """
    rules = override_rules() if rules is None else rules
    pos = {g: i for i, g in enumerate(GRADES)}
    model = scored["grade"].to_numpy(object)
    idx = np.array([pos[g] for g in model], dtype=int)
    final = idx.copy()
    rule_of = np.full(len(idx), None, dtype=object)
    reason_of = np.full(len(idx), None, dtype=object)
    ordered = [r for r in rules if r["action"] == "upgrade"] + [
        r for r in rules if r["action"] == "cap"
    ]
    unknown = [r for r in rules if r["action"] not in ("upgrade", "cap")]
    if unknown:
        raise ValueError(f"unknown override action {unknown[0]['action']!r}")
    for r in ordered:
        if r["column"] not in scored.columns:
            continue
        fires = _truthy(scored[r["column"]])
        if r["action"] == "upgrade":
            # from_grade limits an upgrade to weak model grades (default: every grade).
            fires &= idx >= pos[r.get("from_grade", GRADES[0])]
            new = np.maximum(final - int(r.get("notches", 1)), pos[r.get("best", GRADES[0])])
        else:
            new = np.maximum(final, pos[r["grade"]])
        changed = fires & (new != final)
        final = np.where(fires, new, final)
        rule_of[changed] = r["code"]
        reason_of[changed] = r.get("reason", r["code"])
    same = final == idx
    rule_of[same] = None
    reason_of[same] = None
    out = scored.copy()
    out["model_grade"] = model
    out["final_grade"] = np.array(GRADES, dtype=object)[final]
    # object dtype so that "no override" stays None (pandas would store text columns as str/NaN)
    out["override"] = pd.Series(rule_of, index=out.index, dtype=object)
    out["override_reason_code"] = pd.Series(reason_of, index=out.index, dtype=object)
    return out


# -- demo / warehouse table --------------------------------------------------------------------


def corporate_credit_table(wh: Database, scope: Scope) -> pd.DataFrame:
    """One row per corporate client in ``scope`` (``corp_clients`` joined to ``corp_accounts``,
    filtered in SQL by ``scope.where("c")``), ordered by corp_id, with the credit features:
    corp_id, industry, size, years_in_business (from founded_on to the snapshot's ``meta`` as_of,
    in years of 365.25 days), registered_capital, employees, payroll_headcount, annual_revenue,
    debt_ratio, overdue_tax, has_guarantor, avg_daily_deposit, loan_balance, loan_interest_12m,
    fee_income_12m, max_overdue_days, deposit_to_loan (avg_daily_deposit / loan_balance; NULL
    without a loan, which the scorecard bins as missing) and default_flag (the target: 90+ days
    overdue or written off in the next 12 months). Amounts in yuan."""
    where, params = scope.where("c")
    sql = f"""
        SELECT c.corp_id, c.industry, c.size,
               ROUND(date_diff('day', c.founded_on,
                     (SELECT TRY_CAST(value AS DATE) FROM meta WHERE key = 'as_of')) / 365.25, 2)
                 AS years_in_business,
               c.registered_capital::DOUBLE AS registered_capital, c.employees,
               c.payroll_headcount, c.annual_revenue::DOUBLE AS annual_revenue, c.debt_ratio,
               c.overdue_tax, c.has_guarantor,
               a.avg_daily_deposit::DOUBLE AS avg_daily_deposit,
               a.loan_balance::DOUBLE AS loan_balance,
               a.loan_interest_12m::DOUBLE AS loan_interest_12m,
               a.fee_income_12m::DOUBLE AS fee_income_12m, a.max_overdue_days,
               CASE WHEN a.loan_balance > 0
                    THEN a.avg_daily_deposit::DOUBLE / a.loan_balance::DOUBLE END
                 AS deposit_to_loan,
               a.default_flag
        FROM corp_clients c
        JOIN corp_accounts a ON a.corp_id = c.corp_id
        WHERE {where}
        ORDER BY c.corp_id
    """
    return wh.query(sql, params)


# -- adjusted grades in the workspace -----------------------------------------------------------

GRADE_LOG_COLUMNS = (
    "corp_id", "model_grade", "final_grade", "rule", "reason", "score", "snapshot", "decided_by",
    "decided_at",
)  # fmt: skip
# Who may adjust a grade (``access.PERMISSIONS["set_grade"]``): credit decisions sit with the
# branch manager or head office (a trainer in the demo); an RM sees the grades but does not set them.


def _corp_scope_ids(wh: Database, scope: Scope, corp_ids) -> list[str]:
    where, params = scope.where("c")
    df = wh.query(
        f"SELECT corp_id FROM corp_clients c WHERE corp_id IN (SELECT UNNEST(?::VARCHAR[])) "
        f"AND {where}",
        [list(corp_ids), *params],
    )
    return df["corp_id"].tolist()


def recorded_grades(ws: Database, wh: Database, scope: Scope) -> pd.DataFrame:
    """The adjustments recorded for the viewer's corporate clients, newest first
    (``GRADE_LOG_COLUMNS``). A manual adjustment's reason is the person's own words: anyone but
    its author reads it with mobile, ID and card numbers masked (``privacy.mask_free_text``)."""
    where, params = scope.where("c")
    ids = wh.query(f"SELECT corp_id FROM corp_clients c WHERE {where}", params)["corp_id"]
    df = ws.query(
        f"SELECT {', '.join(GRADE_LOG_COLUMNS)} FROM grade_overrides "
        "WHERE corp_id IN (SELECT UNNEST(?::VARCHAR[])) ORDER BY decided_at DESC, corp_id",
        [ids.tolist()],
    )
    manual = df["rule"] == "manual"
    authors = df["decided_by"].where(manual, scope.viewer_id)  # a rule's reason is a code
    df["reason"] = mask_notes(df["reason"], authors, scope.viewer_id)
    return df


def record_rule_overrides(
    ws: Database, wh: Database, scope: Scope, graded: pd.DataFrame, decided_by: str, snapshot: str
) -> int:
    """Record the rule overrides of ``graded`` (``apply_overrides`` rows with corp_id and score)
    for the viewer's clients; a client whose latest recorded adjustment is already this one is not
    recorded again. Returns the rows written."""
    if not may(scope, "set_grade"):
        raise AccessDenied("grades are adjusted by a branch manager or head office")
    rows = graded[graded["override"].notna()]
    rows = rows[rows["corp_id"].isin(_corp_scope_ids(wh, scope, rows["corp_id"]))]
    latest = recorded_grades(ws, wh, scope).drop_duplicates("corp_id").set_index("corp_id")
    fresh = [
        r
        for r in rows.itertuples(index=False)
        if r.corp_id not in latest.index
        or (latest.at[r.corp_id, "rule"], latest.at[r.corp_id, "final_grade"])
        != (r.override, r.final_grade)
    ]
    if not fresh:
        return 0
    with ws.cursor() as cur:
        cur.executemany(
            "INSERT INTO grade_overrides (corp_id, model_grade, final_grade, rule, reason, score, "
            "snapshot, decided_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [[r.corp_id, r.model_grade, r.final_grade, r.override, r.override_reason_code,
              float(r.score), snapshot, decided_by] for r in fresh],
        )  # fmt: skip
    return len(fresh)


def record_manual_grade(
    ws: Database,
    wh: Database,
    scope: Scope,
    corp_id: str,
    model_grade: str,
    final_grade: str,
    reason: str,
    decided_by: str,
    score: float | None = None,
    snapshot: str | None = None,
) -> None:
    """Record a grade set by hand, with the person's reason (required, at most 500 characters)."""
    if not may(scope, "set_grade"):
        raise AccessDenied("grades are adjusted by a branch manager or head office")
    if not _corp_scope_ids(wh, scope, [corp_id]):
        raise AccessDenied("this corporate client is not in your scope")
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValueError("a manual grade needs a reason of at most 500 characters")
    if model_grade not in GRADES or final_grade not in GRADES:
        raise ValueError("unknown grade")
    ws.execute(
        "INSERT INTO grade_overrides (corp_id, model_grade, final_grade, rule, reason, score, "
        "snapshot, decided_by) VALUES (?, ?, ?, 'manual', ?, ?, ?, ?)",
        [corp_id, model_grade, final_grade, reason, score, snapshot, decided_by],
    )


def credit_training_table(wh: Database, scope: Scope) -> pd.DataFrame:
    """The rows the demo scorecard trains on (``[scorecard] trained_on``): ``"bank"`` (default)
    is ``corporate_credit_table`` for every corporate client of the bank, whoever looks: a
    credit scorecard is the bank's model, built by head office on all its borrowers and applied
    in every branch, and one sub-branch's book holds too few defaults to learn from (the default
    demo: about 15 a branch, 45 in the bank; [scorecard] min_bad is 20). ``"branches"`` trains on
    the corporate clients of the branches the viewer's scope touches (an RM's book alone is never
    enough). The trained card shows bins, counts and points, never a client of another scope;
    the rows scored and listed in the view are still the viewer's own
    (``corporate_credit_table(wh, scope)``)."""
    from analytics.value import population_scope  # value imports nothing from here; keep it lazy

    rule = str(load_settings()["scorecard"].get("trained_on", "bank"))
    if rule == "bank":
        return corporate_credit_table(wh, Scope("head_office", viewer_id=scope.viewer_id))
    if rule == "branches":
        return corporate_credit_table(wh, population_scope(wh, scope))
    raise ValueError(f"[scorecard] trained_on must be 'bank' or 'branches', not {rule!r}")
