"""Statistics of a runtime measurement, in plain Python (the device worker has neither Django nor scipy).

- `summarize(samples)`: n, mean, median, p5/p95 (linear interpolation, as numpy's default), standard
  deviation (n − 1) and the 95% confidence interval of the mean (Student t with n − 1 degrees of
  freedom). The t quantile comes from the regularized incomplete beta function (continued fraction,
  Numerical Recipes §6.4) inverted by bisection; `tests/evaluation/test_stats.py` checks it against scipy.
- `welch(a, b)`: the difference of two jobs' means with its 95% interval (Welch–Satterthwaite degrees of
  freedom) and whether it is significant (the interval excludes 0).
- `throttling(repetitions)`: latency rising across repetitions together with temperature.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

CONFIDENCE = 0.95
# Throttling: the last repetition's mean at least this much above the first one's while the hottest
# thermal zone rose by at least THROTTLE_RISE_C over the same repetitions.
THROTTLE_SLOWDOWN = 0.05
THROTTLE_RISE_C = 2.0


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 3e-16:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with `df` degrees of freedom."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t (0 < p < 1), by bisection on the CDF to ~1e-12."""
    if not 0.0 < p < 1.0 or df <= 0:
        raise ValueError("t_quantile needs 0 < p < 1 and df > 0")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2.0


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) of sorted values, linear interpolation (numpy's default)."""
    if not sorted_values:
        raise ValueError("no values")
    position = (len(sorted_values) - 1) * q / 100.0
    below = math.floor(position)
    above = min(below + 1, len(sorted_values) - 1)
    fraction = position - below
    return sorted_values[below] + (sorted_values[above] - sorted_values[below]) * fraction


def summarize(samples: Sequence[float], *, confidence: float = CONFIDENCE) -> dict:
    """n, mean, median, p5, p95, std (n − 1), min, max and the confidence interval of the mean."""
    values = sorted(float(v) for v in samples)
    n = len(values)
    if n == 0:
        raise ValueError("no samples")
    mean = math.fsum(values) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    if n > 1:
        half = t_quantile(0.5 + confidence / 2.0, n - 1) * std / math.sqrt(n)
        ci_low, ci_high = mean - half, mean + half
    else:
        ci_low = ci_high = None
    return {
        "n": n,
        "mean": mean,
        "median": percentile(values, 50),
        "p5": percentile(values, 5),
        "p95": percentile(values, 95),
        "std": std,
        "min": values[0],
        "max": values[-1],
        "ci_low": ci_low,
        "ci_high": ci_high,
        "confidence": confidence,
    }


def welch(a: dict, b: dict, *, confidence: float = CONFIDENCE) -> dict | None:
    """Difference of means b − a (two `summarize` results, or dicts with n, mean, std) with its Welch
    confidence interval; None when either side has fewer than two samples."""
    na, nb = int(a.get("n") or 0), int(b.get("n") or 0)
    if na < 2 or nb < 2:
        return None
    va, vb = float(a["std"]) ** 2 / na, float(b["std"]) ** 2 / nb
    diff = float(b["mean"]) - float(a["mean"])
    se = math.sqrt(va + vb)
    if se == 0.0:
        return {"diff": diff, "ci_low": diff, "ci_high": diff, "df": None, "significant": diff != 0.0}
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    half = t_quantile(0.5 + confidence / 2.0, df) * se
    low, high = diff - half, diff + half
    return {
        "diff": diff,
        "ci_low": low,
        "ci_high": high,
        "df": df,
        "relative": diff / float(a["mean"]) if float(a["mean"]) else None,
        "significant": low > 0.0 or high < 0.0,
        "confidence": confidence,
    }


def pooled(repetitions: Sequence[dict], *, confidence: float = CONFIDENCE) -> dict | None:
    """The summary of all runs from per-repetition n, mean and std (n − 1), for tools that report no
    single runs: exact pooled mean and standard deviation, Student t interval; no percentiles."""
    parts = [
        (int(r["n"]), float(r["mean_ms"]), float(r.get("std_ms") or 0.0)) for r in repetitions if r.get("n")
    ]
    n = sum(p[0] for p in parts)
    if n == 0:
        return None
    mean = math.fsum(k * m for k, m, _ in parts) / n
    squares = math.fsum((k - 1) * s * s + k * (m - mean) ** 2 for k, m, s in parts)
    std = math.sqrt(squares / (n - 1)) if n > 1 else 0.0
    half = t_quantile(0.5 + confidence / 2.0, n - 1) * std / math.sqrt(n) if n > 1 else None
    return {
        "n": n,
        "mean": mean,
        "std": std,
        "ci_low": mean - half if half is not None else None,
        "ci_high": mean + half if half is not None else None,
        "confidence": confidence,
    }


def _hottest(reading: dict | None) -> float | None:
    zones = [z.get("temp_c") for z in (reading or {}).get("zones", []) if z.get("temp_c") is not None]
    return max(zones) if zones else None


def throttling(repetitions: Sequence[dict]) -> bool | None:
    """Whether the device throttled: the mean latency rose from the first repetition to the last by at
    least THROTTLE_SLOWDOWN while the hottest thermal zone rose by at least THROTTLE_RISE_C (before the
    first → after the last). None when that cannot be told (one repetition, or no temperature)."""
    if len(repetitions) < 2:
        return None
    first, last = repetitions[0], repetitions[-1]
    start, end = _hottest(first.get("thermal_before")), _hottest(last.get("thermal_after"))
    if start is None or end is None:
        return None
    slower = float(last["mean_ms"]) >= float(first["mean_ms"]) * (1.0 + THROTTLE_SLOWDOWN)
    return bool(slower and end - start >= THROTTLE_RISE_C)
