"""The tour's figures (needs matplotlib, the `plot` extra)."""

import pathlib
from math import sqrt

import numpy as np

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


def propagation_plot(table: dict, depth: int, width: int, path: pathlib.Path) -> pathlib.Path:
    """Activation std per layer, one panel per activation, one line per initializer."""
    plt = _pyplot()
    activations = list(dict.fromkeys(a for a, _ in table))
    fig, axes = plt.subplots(1, len(activations), figsize=(5 * len(activations), 4), squeeze=False)
    for ax, activation in zip(axes[0], activations, strict=True):
        for (act, name), stds in table.items():
            if act == activation:
                ax.semilogy(np.arange(1, depth + 1), np.maximum(stds, 1e-30), label=name)
        ax.set(title=f"{activation}, width {width}", xlabel="layer", ylabel="activation std", ylim=(1e-8, 1e8))
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
