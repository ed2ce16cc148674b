"""The per-input metric calls of the fidelity job, on top of `challenges.metrics` (the challenge side's
vectorised, tested module: PSNR and SSIM as scikit-image/MAI compute them, si-RMSE as MAI's depth code,
top-k accuracy). Arguments here are (prediction, target) as the fidelity job holds them; a pair the
metrics module cannot compare raises `challenges.metrics.MetricError`, which the fidelity job turns into
the team's message (this module does not import `fidelity`: fidelity → metrics_adapter only)."""

from __future__ import annotations

import numpy as np

from challenges import metrics


def _call(fn, *args, **kwargs) -> float:
    return float(fn(*args, **kwargs))


def psnr(pred: np.ndarray, target: np.ndarray, data_range: float = 255.0) -> float:
    return _call(metrics.psnr, target, pred, data_range=data_range)


def ssim(pred: np.ndarray, target: np.ndarray, data_range: float = 255.0) -> float:
    return _call(metrics.ssim, target, pred, data_range=data_range)


def depth_error(key: str, pred: np.ndarray, target: np.ndarray) -> float:
    """si_rmse, rmse (mm), log10 or rel, as MAI's depth code computes them."""
    return _call(lambda: getattr(metrics.depth_errors(target, pred), key))


def top_k_hit(scores: np.ndarray, label: int, k: int) -> float:
    """1.0 when `label` is among the k highest scores (ties broken by the lower class index)."""
    ranked = metrics.rank_from_scores(np.asarray(scores, dtype=np.float64).reshape(1, -1))
    return float(metrics.top_k_hits(np.array([label]), ranked, k)[0])
