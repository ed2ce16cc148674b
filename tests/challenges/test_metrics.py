"""Metrics: equal to scikit-image on random images, and to values computed by hand."""

import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from challenges import metrics


def _pair(rng, shape, noise=20):
    a = rng.integers(0, 256, shape, dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-noise, noise + 1, shape), 0, 255).astype(np.uint8)
    return a, b


@pytest.mark.parametrize("shape", [(64, 96, 3), (37, 53, 3), (11, 11), (120, 70), (33, 200, 1)])
def test_psnr_and_ssim_equal_scikit_image(shape):
    rng = np.random.default_rng(sum(shape))
    a, b = _pair(rng, shape)
    assert metrics.psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255), abs=1e-6)
    reference = structural_similarity(
        a,
        b,
        data_range=255,
        channel_axis=-1 if len(shape) == 3 else None,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
    )
    assert abs(metrics.ssim(a, b) - reference) < 1e-6


def test_ssim_on_float_images_and_smooth_content():
    rng = np.random.default_rng(7)
    a = np.cumsum(rng.normal(size=(50, 80, 3)), axis=1)
    a = (a - a.min()) / (a.max() - a.min())
    b = a + rng.normal(0, 0.05, a.shape)
    ref = structural_similarity(
        a, b, data_range=1.0, channel_axis=-1, gaussian_weights=True, use_sample_covariance=False
    )
    assert abs(metrics.ssim(a, b, data_range=1.0) - ref) < 1e-6


def test_psnr_by_hand():
    a = np.zeros((4, 4, 3), np.uint8)
    b = np.ones((4, 4, 3), np.uint8)  # mse = 1
    assert metrics.psnr(a, b) == pytest.approx(20 * math.log10(255))  # 48.1308…
    b[0, 0, 0] = 11  # squared errors: 47 ones and one 121 → mse = 168/48 = 3.5
    assert metrics.psnr(a, b) == pytest.approx(10 * math.log10(255**2 / 3.5))
    assert metrics.psnr(a, a) == math.inf


def test_ssim_identical_is_one_and_size_checks():
    a = np.random.default_rng(1).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    assert metrics.ssim(a, a) == pytest.approx(1.0)
    with pytest.raises(metrics.MetricError, match="does not match"):
        metrics.ssim(a, a[:-1])
    with pytest.raises(metrics.MetricError, match="at least 11×11"):
        metrics.ssim(a[:10], a[:10])


def test_si_rmse_by_hand():
    gt = np.array([[1000.0, 2000.0], [4000.0, 0.5]])  # the 0.5 pixel is invalid (target ≤ 1)
    pred = np.array([[2000.0, 2000.0], [2000.0, 123.0]])
    d = np.log([2.0, 1.0, 0.5])  # log(pred) - log(gt) on the valid pixels
    expected = math.sqrt(np.mean(d**2) - np.mean(d) ** 2)
    errors = metrics.depth_errors(gt, pred)
    assert errors.si_rmse == pytest.approx(expected)
    assert errors.rmse == pytest.approx(math.sqrt((1000**2 + 0 + 2000**2) / 3))
    assert errors.rel == pytest.approx((1.0 + 0.0 + 0.5) / 3)
    # A constant scale factor costs nothing: scale invariance.
    assert metrics.si_rmse(gt, gt * 3.7) == pytest.approx(0.0, abs=1e-12)
    # Predictions below 1 mm are clamped to 1 before the log.
    clamped = metrics.depth_errors(np.array([10.0, 10.0]), np.array([-5.0, 10.0]))
    d = np.log([1 / 10, 1.0])
    assert clamped.si_rmse == pytest.approx(math.sqrt(np.mean(d**2) - np.mean(d) ** 2))


def test_top_k_accuracy_by_hand():
    labels = np.array([3, 1, 2, 0])
    ranked = np.array([[3, 0, 1], [0, 1, 2], [0, 1, 4], [1, 2, 0]])
    assert metrics.top_k_accuracy(labels, ranked, 1) == 0.25
    assert metrics.top_k_accuracy(labels, ranked, 2) == 0.5
    assert metrics.top_k_accuracy(labels, ranked, 3) == 0.75
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    assert metrics.rank_from_scores(scores).tolist() == [[1, 2, 0], [0, 2, 1]]
