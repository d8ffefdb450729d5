#!/usr/bin/env python3
"""Blur an image with a large point-spread function, then restore it.

1. Take a test image: scikit-image's ``camera`` picture if scikit-image is
   installed, else one drawn here with numpy (a checkerboard, discs, rings and
   a gradient; nothing is downloaded).
   The picture sits on a black margin as wide as the PSF, like a slide on a
   dark table, so that the zero padding of the blur loses nothing.
2. Blur it with a large out-of-focus PSF (a disc, 41 pixels across by default)
   with a plan of ``padding="SAME", flip=True`` -- a true convolution, as in
   optics -- bound to the PSF, and add a little noise.
3. Check the blur against ``scipy.signal.fftconvolve(..., mode="same")``, and
   time both (the median of 7 calls each, after one call of each).
4. Restore the image with a Wiener filter and report the PSNR of the blurred
   and of the restored image against the original.

Run::

    python examples/deblur.py                 # 512 x 512, 41-pixel PSF
    python examples/deblur.py --quick         # 256 x 256, 21-pixel PSF
    python examples/deblur.py --save out.png  # also save a picture (needs matplotlib)
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import scipy.signal

import fftconv


def test_image(size: int, margin: int) -> tuple[np.ndarray, str]:
    """A ``size x size`` float64 image in [0, 1] with a black margin, and its source."""
    inner = size - 2 * margin
    try:
        from skimage import data
        from skimage.transform import resize
    except ImportError:
        picture, source = synthetic_image(inner), "synthetic (checkerboard, discs, rings, gradient)"
    else:
        picture = resize(data.camera() / 255.0, (inner, inner), anti_aliasing=True)
        source = "skimage.data.camera()"
    return np.pad(picture, margin), source


def synthetic_image(size: int) -> np.ndarray:
    """A test card drawn with numpy: sharp edges, fine and coarse detail, smooth shading."""
    y, x = np.mgrid[0:size, 0:size] / size
    image = 0.25 + 0.3 * x                                       # gradient
    check = ((np.floor(x * 16) + np.floor(y * 16)) % 2).astype(float)
    image = np.where((x < 0.5) & (y < 0.5), 0.2 + 0.6 * check, image)  # checkerboard quadrant
    for cx, cy, r, v in [(0.75, 0.25, 0.15, 0.95), (0.7, 0.72, 0.08, 0.05),
                         (0.85, 0.8, 0.05, 0.9), (0.3, 0.75, 0.18, 0.7)]:
        image[(x - cx) ** 2 + (y - cy) ** 2 < r ** 2] = v          # discs
    rings = np.hypot(x - 0.3, y - 0.75)
    image = np.where(rings < 0.12, 0.5 + 0.4 * np.sign(np.sin(rings * 160)), image)  # fine rings
    return np.clip(image, 0.0, 1.0)


def disc_psf(diameter: int) -> np.ndarray:
    """An out-of-focus blur: a uniform disc, normalised to sum 1 (odd size)."""
    r = diameter // 2
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    psf = (x ** 2 + y ** 2 <= r ** 2).astype(float)
    return psf / psf.sum()


def median_seconds(call, repeats: int = 7) -> float:
    """The median wall time of ``repeats`` calls (after the ones above warmed both up)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def wiener_deconvolve(blurred: np.ndarray, psf: np.ndarray, nsr: float) -> np.ndarray:
    """Wiener filter with a constant noise-to-signal power ratio ``nsr``."""
    padded = np.zeros_like(blurred)
    kh, kw = psf.shape
    padded[:kh, :kw] = psf
    padded = np.roll(padded, (-(kh // 2), -(kw // 2)), axis=(0, 1))  # centre at (0, 0)
    H = np.fft.rfft2(padded)
    G = np.fft.rfft2(blurred)
    return np.fft.irfft2(G * np.conj(H) / (np.abs(H) ** 2 + nsr), s=blurred.shape)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a - b) ** 2)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small image and PSF")
    parser.add_argument("--size", type=int, default=None, help="image side (default 512; 256 quick)")
    parser.add_argument("--psf", type=int, default=None, help="PSF diameter (default 41; 21 quick)")
    parser.add_argument("--noise", type=float, default=0.005, help="noise standard deviation")
    parser.add_argument("--nsr", type=float, default=1e-3,
                        help="noise-to-signal power ratio of the Wiener filter")
    parser.add_argument("--save", default=None, help="save original/blurred/restored to this PNG")
    args = parser.parse_args(argv)
    size = args.size or (256 if args.quick else 512)
    diameter = (args.psf or (21 if args.quick else 41)) | 1  # odd: SAME centres it like scipy

    if size < 3 * diameter:
        parser.error(f"--size must be at least 3 times the PSF diameter ({3 * diameter})")
    image, source = test_image(size, margin=diameter)
    psf = disc_psf(diameter)
    print(f"image: {source}, {size} x {size}; PSF: disc of diameter {diameter} pixels")

    # fftconv works on batches of multichannel images: NHWC input, HWIO filters
    x = image[None, :, :, None]
    w = psf[:, :, None, None]
    plan = fftconv.plan_conv2d(x.shape, w.shape, padding="SAME", flip=True, dtype=x.dtype)
    print(f"fftconv plans method={plan.method!r} (predicted {plan.speedup:.1f}x faster "
          f"than the other method)")
    blur = plan.bind(w)  # the PSF's spectrum, computed once for every image it blurs
    blurred = blur(x)[0, :, :, 0]
    reference = scipy.signal.fftconvolve(image, psf, mode="same")
    t_fftconv = median_seconds(lambda: blur(x))
    t_scipy = median_seconds(lambda: scipy.signal.fftconvolve(image, psf, mode="same"))
    err = np.linalg.norm(blurred - reference) / np.linalg.norm(reference)
    print(f"blur: fftconv {t_fftconv * 1e3:.1f} ms, scipy.signal.fftconvolve "
          f"{t_scipy * 1e3:.1f} ms (median of 7 calls each); relative L2 difference {err:.1e}")
    run = blur.last_run
    print(f"fftconv ran {run['method']!r} in {run['dtype']} ({run['why']})")
    if not err < 1e-12:
        print("error: fftconv and scipy disagree", file=sys.stderr)
        return 1

    rng = np.random.default_rng(0)
    noisy = blurred + args.noise * rng.standard_normal(blurred.shape)
    restored = np.clip(wiener_deconvolve(noisy, psf, args.nsr), 0, 1)
    p_blur, p_restored = psnr(image, noisy), psnr(image, restored)
    print(f"added noise of standard deviation {args.noise}; PSNR against the original: "
          f"blurred {p_blur:.1f} dB, Wiener-restored (nsr {args.nsr:g}) {p_restored:.1f} dB")

    if args.save:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("--save needs matplotlib; not saved")
        else:
            fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
            for ax, img, title in zip(axes, (image, noisy, restored),
                                      ("original", f"blurred (disc {diameter}) + noise",
                                       "Wiener-restored")):
                ax.imshow(img, cmap="gray", vmin=0, vmax=1)
                ax.set_title(title)
                ax.axis("off")
            fig.tight_layout()
            fig.savefig(args.save, dpi=100)
            print(f"saved {args.save}")
    if not p_restored > p_blur:
        print("error: the restoration did not improve the image", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
