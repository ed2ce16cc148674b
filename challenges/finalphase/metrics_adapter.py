"""The metric functions the fidelity job calls, per test input: PSNR, SSIM, si-RMSE, RMSE, top-k hit.

They delegate to `challenges.metrics` (the challenge side's vectorised, tested module) where it offers the
function; the small numpy versions here are the fallback with the same definitions (SSIM as
scikit-image's default: 7×7 uniform window, sample covariance, K1=0.01, K2=0.03, mean over channels;
si-RMSE as the MAI depth code)."""

from __future__ import annotations

import numpy as np


def _shared(name: str):
    try:
        from challenges import metrics
    except ImportError:
        return None
    return getattr(metrics, name, None)


def psnr(pred: np.ndarray, target: np.ndarray, data_range: float = 255.0) -> float:
    mse = float(np.mean((pred.astype(np.float64) - target.astype(np.float64)) ** 2))
    if mse == 0:
        return float("inf")
    return float(10 * np.log10(data_range**2 / mse))


def ssim(pred: np.ndarray, target: np.ndarray, data_range: float = 255.0) -> float:
    from scipy.ndimage import uniform_filter

    x = pred.astype(np.float64)
    y = target.astype(np.float64)
    if x.ndim == 3:
        return float(np.mean([ssim(x[..., c], y[..., c], data_range) for c in range(x.shape[-1])]))
    win = 7
    ndim = x.ndim
    cov_norm = win**ndim / (win**ndim - 1)
    ux = uniform_filter(x, win)
    uy = uniform_filter(y, win)
    uxx = uniform_filter(x * x, win)
    uyy = uniform_filter(y * y, win)
    uxy = uniform_filter(x * y, win)
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    pad = (win - 1) // 2
    crop = tuple(slice(pad, d - pad) for d in s.shape)
    return float(s[crop].mean())


def si_rmse(pred: np.ndarray, target: np.ndarray) -> float:
    """MAI depth: depth in mm, values below 1 clamped to 1, only pixels where the target > 1."""
    pred = np.maximum(pred.astype(np.float64), 1.0)
    target = target.astype(np.float64)
    mask = target > 1
    if not mask.any():
        return float("nan")
    d = np.log(pred[mask]) - np.log(target[mask])
    return float(np.sqrt(max(np.mean(d**2) - np.mean(d) ** 2, 0.0)))


def rmse(pred: np.ndarray, target: np.ndarray) -> float:
    return float(np.sqrt(np.mean((pred.astype(np.float64) - target.astype(np.float64)) ** 2)))


def top_k_hit(scores: np.ndarray, label: int, k: int) -> float:
    """1.0 when `label` is among the k highest scores (ties broken by the lower class index)."""
    order = np.argsort(-scores, kind="stable")
    return 1.0 if label in order[:k] else 0.0
