"""Benchmark of the fidelity metrics (challenges/metrics.py) against scikit-image on the same data.

100 pairs of 1920×1080 RGB uint8 images (a smooth random scene and a noisy, slightly shifted copy),
scored with PSNR and SSIM by our module and by scikit-image (`peak_signal_noise_ratio(data_range=255)`,
`structural_similarity(data_range=255, channel_axis=-1, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False)`, the Wang et al. / tf.image.ssim setting MAI's scoring used).
Target: at least 3× faster, same values (max abs difference below 1e-6). Both run single-threaded.

    .venv/bin/python benchmarks/metrics.py [--pairs 100 --height 1080 --width 1920 --seed 0]

Ends with one JSON line: {"ours_s", "skimage_s", "speedup", "max_abs_diff_psnr", "max_abs_diff_ssim"}.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

# Both sides single-threaded: our SSIM's filtering runs as BLAS matrix products, which would otherwise
# use every core (and thrash on a loaded machine), while scikit-image's filters use one.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skimage.metrics import peak_signal_noise_ratio, structural_similarity  # noqa: E402

from challenges import metrics  # noqa: E402


def make_pair(rng, height, width):
    coarse = rng.uniform(0, 255, (height // 60 + 2, width // 60 + 2, 3))
    scene = np.kron(coarse, np.ones((60, 60, 1)))[:height, :width]
    target = np.clip(scene + rng.normal(0, 12, scene.shape), 0, 255).astype(np.uint8)
    pred = np.roll(target, 1, axis=1).astype(np.int16) + rng.integers(-8, 9, target.shape)
    return target, np.clip(pred, 0, 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    pool = [make_pair(rng, args.height, args.width) for _ in range(min(args.pairs, 10))]
    pairs = [pool[i % len(pool)] for i in range(args.pairs)]

    ours_s = skimage_s = 0.0
    diff_psnr = diff_ssim = 0.0
    for i, (a, b) in enumerate(pairs):
        t = time.perf_counter()
        p_ours, s_ours = metrics.psnr(a, b), metrics.ssim(a, b)
        ours_s += time.perf_counter() - t
        t = time.perf_counter()
        p_ref = peak_signal_noise_ratio(a, b, data_range=255)
        s_ref = structural_similarity(
            a,
            b,
            data_range=255,
            channel_axis=-1,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        skimage_s += time.perf_counter() - t
        diff_psnr = max(diff_psnr, abs(p_ours - p_ref))
        diff_ssim = max(diff_ssim, abs(s_ours - s_ref))
        if (i + 1) % 10 == 0:
            print(f"{i + 1:4d} pairs: ours {ours_s:7.2f} s, scikit-image {skimage_s:7.2f} s", flush=True)

    speedup = skimage_s / ours_s
    print(f"PSNR+SSIM of {args.pairs} pairs of {args.width}×{args.height} RGB:")
    print(f"  ours          {ours_s:8.2f} s  ({1000 * ours_s / args.pairs:.0f} ms per pair)")
    print(f"  scikit-image  {skimage_s:8.2f} s  ({1000 * skimage_s / args.pairs:.0f} ms per pair)")
    print(f"  speedup       {speedup:8.2f}×  (target ≥ 3×)")
    print(f"  max |Δ| PSNR  {diff_psnr:.3e} dB, SSIM {diff_ssim:.3e}  (target < 1e-6)")
    print(
        json.dumps(
            {
                "ours_s": round(ours_s, 3),
                "skimage_s": round(skimage_s, 3),
                "speedup": round(speedup, 2),
                "max_abs_diff_psnr": diff_psnr,
                "max_abs_diff_ssim": diff_ssim,
            }
        )
    )


if __name__ == "__main__":
    main()
