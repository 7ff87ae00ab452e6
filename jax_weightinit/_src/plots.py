"""The tour's figures (needs matplotlib, the `plot` extra)."""

import math
import pathlib
from math import sqrt

import numpy as np

from .propagate import DESCRIPTIONS, INITIALIZERS

INPUTS = np.arange(1, 101)
OUTPUTS = 10  # the tutorial's fixed number of outputs for the normalized-xavier plot


def matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def bound_plots(out: pathlib.Path) -> list[pathlib.Path]:
    """The tutorial's three range-vs-inputs plots, with the correct normalized-xavier bound."""
    plt = _pyplot()
    curves = [
        ("xavier_range.png", "xavier: U[-1/sqrt(n), 1/sqrt(n)]", [1.0 / sqrt(n) for n in INPUTS]),
        (
            "normalized_xavier_range.png",
            f"normalized xavier: ±sqrt(6)/sqrt(n + m), m = {OUTPUTS}",
            [sqrt(6.0) / sqrt(n + OUTPUTS) for n in INPUTS],
        ),
        ("he_range.png", "he: std sqrt(2/n)", [sqrt(2.0 / n) for n in INPUTS]),
    ]
    written = []
    for name, title, bound in curves:
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.errorbar(INPUTS, np.zeros(len(INPUTS)), yerr=bound, fmt="none", ecolor="tab:blue")
        ax.set(title=title, xlabel="number of inputs n", ylabel="weight range" if "std" not in title else "± one std")
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        written.append(out / name)
    return written


LIMITS = (1e-8, 1e8)
_STYLES = ("-", "--", ":", "-.")


def legend_labels(table: dict, width: int, limits: tuple[float, float] = LIMITS) -> dict:
    """Each curve's legend label: the initializer, what 'small' is, which others share its law's std, where it exits.

    Initializers with the same std on (width, width) layers — normalized xavier and
    lecun_normal both give 1/sqrt(width) — propagate alike whatever their families, so
    their curves overlap up to sampling noise; the label says so.
    """
    stds_of = {name: INITIALIZERS[name]().distribution((width, width)).std for _, name in table}
    labels = {}
    for (activation, name), stds in table.items():
        label = f"{name} ({DESCRIPTIONS['small']})" if name == "small" else name
        same = [
            other
            for act, other in table
            if act == activation and other != name and math.isclose(stds_of[other], stds_of[name], rel_tol=1e-9)
        ]
        if same:
            label += f", same std as {' and '.join(same)}"
        out = np.flatnonzero((stds < limits[0]) | (stds > limits[1]) | ~np.isfinite(stds))
        if out.size:
            label += f", leaves the plot at layer {out[0] + 1}"
        labels[activation, name] = label
    return labels


def propagation_plot(table: dict, depth: int, width: int, path: pathlib.Path) -> pathlib.Path:
    """Activation std per layer, one panel per activation, one line per initializer (coinciding ones dashed)."""
    plt = _pyplot()
    labels = legend_labels(table, width)
    activations = list(dict.fromkeys(a for a, _ in table))
    fig, axes = plt.subplots(1, len(activations), figsize=(6 * len(activations), 4.5), squeeze=False)
    for ax, activation in zip(axes[0], activations, strict=True):
        names = [name for act, name in table if act == activation]
        for i, name in enumerate(names):
            stds = table[activation, name]
            layers = np.arange(1, depth + 1)
            line = ax.semilogy(
                layers,
                np.where((stds >= LIMITS[0]) & (stds <= LIMITS[1]), stds, np.nan),
                _STYLES[i % len(_STYLES)],
                label=labels[activation, name],
            )
            out = np.flatnonzero((stds < LIMITS[0]) | (stds > LIMITS[1]) | ~np.isfinite(stds))
            if out.size:  # mark where the curve leaves the plot
                edge = LIMITS[0] if not stds[out[0]] > LIMITS[1] else LIMITS[1]
                ax.plot(layers[out[0]], edge, "v" if edge == LIMITS[0] else "^", color=line[0].get_color())
        ax.set(title=f"{activation}, width {width}", xlabel="layer", ylabel="activation std", ylim=LIMITS)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
