"""`evaluation.stats` (plain Python, used where scipy is absent) checked against scipy."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from evaluation.stats import pooled, summarize, t_quantile, throttling, welch


@pytest.mark.parametrize("df", [1, 2, 3, 5, 9, 19, 29, 59, 99, 999, 9999])
@pytest.mark.parametrize("p", [0.9, 0.95, 0.975, 0.995])
def test_t_quantile_matches_scipy(df, p):
    assert t_quantile(p, df) == pytest.approx(scipy_stats.t.ppf(p, df), rel=1e-9)
    assert t_quantile(1 - p, df) == pytest.approx(scipy_stats.t.ppf(1 - p, df), rel=1e-9)


@pytest.mark.parametrize("n", [2, 3, 10, 60, 500])
def test_summary_and_confidence_interval_match_numpy_and_scipy(n):
    samples = np.random.default_rng(n).lognormal(1.5, 0.2, n)
    summary = summarize(samples)
    low, high = scipy_stats.t.interval(0.95, n - 1, loc=samples.mean(), scale=scipy_stats.sem(samples))
    assert (summary["ci_low"], summary["ci_high"]) == (
        pytest.approx(low, rel=1e-9),
        pytest.approx(high, rel=1e-9),
    )
    assert summary["mean"] == pytest.approx(samples.mean())
    assert summary["std"] == pytest.approx(samples.std(ddof=1))
    assert summary["median"] == pytest.approx(np.median(samples))
    assert summary["p5"] == pytest.approx(np.percentile(samples, 5))
    assert summary["p95"] == pytest.approx(np.percentile(samples, 95))


def test_one_sample_has_no_interval():
    summary = summarize([4.2])
    assert (summary["mean"], summary["std"], summary["ci_low"], summary["ci_high"]) == (4.2, 0.0, None, None)


def test_pooled_repetitions_equal_the_summary_of_all_runs():
    rng = np.random.default_rng(7)
    parts = [rng.normal(10 + k, 0.5, size) for k, size in enumerate((20, 30, 25))]
    repetitions = [{"n": len(p), "mean_ms": p.mean(), "std_ms": p.std(ddof=1)} for p in parts]
    everything = summarize(np.concatenate(parts))
    combined = pooled(repetitions)
    for key in ("n", "mean", "std", "ci_low", "ci_high"):
        assert combined[key] == pytest.approx(everything[key], rel=1e-9), key


@pytest.mark.parametrize(("shift", "significant"), [(0.0, False), (0.02, False), (0.5, True), (-0.5, True)])
def test_welch_difference_matches_scipy(shift, significant):
    rng = np.random.default_rng(3)
    a = rng.normal(10, 0.4, 40)
    b = rng.normal(10 + shift, 0.9, 25)
    result = welch(summarize(a), summarize(b))
    reference = scipy_stats.ttest_ind(b, a, equal_var=False)
    interval = reference.confidence_interval(0.95)
    assert result["diff"] == pytest.approx(b.mean() - a.mean())
    assert (result["ci_low"], result["ci_high"]) == (
        pytest.approx(interval.low, rel=1e-9),
        pytest.approx(interval.high, rel=1e-9),
    )
    assert result["df"] == pytest.approx(reference.df, rel=1e-9)
    assert result["significant"] is bool(reference.pvalue < 0.05)
    assert result["significant"] is significant


def _rep(mean, before, after):
    zone = lambda t: {"source": "thermal_zone", "zones": [{"name": "cpu", "temp_c": t}]}  # noqa: E731
    return {"mean_ms": mean, "thermal_before": zone(before), "thermal_after": zone(after)}


def test_throttling_needs_slower_runs_and_a_hotter_device():
    assert throttling([_rep(10, 40, 48), _rep(10.4, 45, 52), _rep(11.2, 50, 56)]) is True
    assert throttling([_rep(10, 40, 48), _rep(11.2, 40, 41)]) is False  # hotter by 1 °C only
    assert throttling([_rep(10, 40, 48), _rep(10.1, 45, 56)]) is False  # hotter, not slower
    assert throttling([_rep(10, 40, 48)]) is None
    no_sensor = {"source": "", "zones": []}
    assert (
        throttling([{"mean_ms": 1, "thermal_before": no_sensor}, {"mean_ms": 2, "thermal_after": no_sensor}])
        is None
    )
