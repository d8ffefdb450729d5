#!/usr/bin/env python3
"""Draw ``docs/images/boundaries.png``: the five padding modes at one edge of an image.

Run from the repository root (needs matplotlib, the ``bench`` extra)::

    python docs/images/make_boundaries.py

A synthetic 40x40 image (a gradient, a diagonal stripe and a disc that touches
the left edge) is padded by 14 pixels on the left with each ``padding_mode``,
through fftconv itself (an identity 1x1 kernel, so the output is the padded
input).  The top row shows the left edge (the pads left of the dashed line);
the bottom row the values along one image row, with the pads shaded.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fftconv  # noqa: E402

HERE = Path(__file__).resolve().parent
MODES = [("constant", "zeros"), ("reflect", "reflect"), ("symmetric", None), ("wrap", "circular"),
         ("edge", "replicate")]
PAD, SHOWN, ROW = 14, 16, 11  # pad width, image columns shown, the row plotted


def image(n: int = 40) -> np.ndarray:
    yy, xx = np.mgrid[:n, :n].astype(float)
    disc = np.hypot(yy - 11, xx - 3) < 6
    stripe = np.abs(yy - 1.6 * xx - 4) < 2.5
    return 0.2 + 0.4 * xx / n + 0.45 * disc + 0.3 * stripe


def padded(img: np.ndarray, mode: str) -> np.ndarray:
    identity = np.ones((1, 1, 1, 1))
    return fftconv.conv2d(img[None, ..., None], identity, padding=((0, 0), (PAD, 0)),
                          padding_mode=mode)[0, ..., 0]


def main() -> Path:
    img = image()
    fig, axes = plt.subplots(2, len(MODES), figsize=(2.5 * len(MODES), 4.6),
                             gridspec_kw={"height_ratios": [3, 1.4]})
    for col, (mode, torch_name) in enumerate(MODES):
        view = padded(img, mode)[:, :PAD + SHOWN]
        top, bottom = axes[0, col], axes[1, col]
        top.imshow(view, cmap="magma", vmin=0, vmax=1.3, interpolation="nearest")
        top.axvline(PAD - 0.5, color="#33cc33", ls="--", lw=1.5)
        top.axhline(ROW, color="white", lw=0.6, alpha=0.6)
        top.set_title(f'"{mode}"' + (f'  (torch "{torch_name}")' if torch_name and torch_name != mode
                                     else ""), fontsize=9)
        top.set_xticks([PAD - 0.5])
        top.set_xticklabels(["edge"], fontsize=8)
        top.set_yticks([])
        positions = np.arange(-PAD, SHOWN)
        bottom.axvspan(-PAD - 0.5, -0.5, color="0.9")
        bottom.step(positions, view[ROW], where="mid", color="k", lw=1)
        bottom.plot(positions[PAD:], view[ROW, PAD:], "o", ms=2.5, color="#cc3366")
        bottom.set_ylim(0, 1.4)
        bottom.set_xticks([-PAD, 0, SHOWN - 1])
        bottom.tick_params(labelsize=7)
        if col:
            bottom.set_yticks([])
    axes[1, 0].set_ylabel(f"row {ROW}", fontsize=8)
    fig.suptitle(f"padding_mode at the left edge of a 40x40 image padded by {PAD} "
                 "(left of the dashed line: the pads; bottom: one row, pads shaded)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    out = HERE / "boundaries.png"
    fig.savefig(out, dpi=110)
    return out


if __name__ == "__main__":
    print(main())
