"""`jax-weightinit` (or `python -m jax_weightinit`): the tutorial's examples, reproduced and checked."""

import argparse
import os
import pathlib
import sys
from collections.abc import Sequence

import jax
import numpy as np

from . import plots
from .heuristics import he, normalized_xavier, xavier
from .propagate import ACTIVATIONS, ALIASES, DESCRIPTIONS, INITIALIZERS, propagation_table

FAN_IN, FAN_OUT, SAMPLES = 10, 20, 1000
# Five stacked (10, 20) layers: fan_in 10 and fan_out 20, as in the tutorial, and 1,000 values.
SHAPE, BATCH_AXIS = (SAMPLES // (FAN_IN * FAN_OUT), FAN_IN, FAN_OUT), 0

EXAMPLES = (
    ("xavier", xavier, "U[-1/sqrt(n), 1/sqrt(n)]"),
    ("normalized xavier", normalized_xavier, "U[-sqrt(6)/sqrt(n+m), sqrt(6)/sqrt(n+m)]"),
    ("he", he, "N(0, sqrt(2/n))"),
)

ERRATA = (
    "The tutorial's prose writes the normalized-xavier bound as sqrt(6)/sqrt(n + n); its code, and "
    "Glorot & Bengio (2010), use n + m (fan_in + fan_out), as here.",
    "It says normalized xavier's std is 'close to 0.17'; for n = 10, m = 20 it is "
    "0.4472/sqrt(3) = 0.258, as its own printed 0.2581 shows.",
    "For he it calls ±1.788 (4 std) the range 'capturing 99.7%' of a normal; 99.7% lies within 3 std "
    "(±1.342), and 4 std holds 99.994%.",
    "Its normalized-xavier plot draws 1/sqrt(n + m) instead of the bound sqrt(6)/sqrt(n + m).",
)


TOUR_INITS = ["small", "xavier", "normalized_xavier", "he", "lecun_normal"]
TOUR_ACTIVATIONS = ["tanh", "sigmoid", "relu"]
TOUR_DEPTH, TOUR_WIDTH, TOUR_BATCH = 50, 256, 256


def examples(seed: int) -> None:
    """Prints the tutorial's three examples and where its text is wrong."""
    key = jax.random.key(seed)
    print(f"The tutorial's three heuristics for n = {FAN_IN} inputs, m = {FAN_OUT} outputs, {SAMPLES} samples each:")
    for name, factory, formula in EXAMPLES:
        init = factory(batch_axis=BATCH_AXIS)
        law = init.distribution(SHAPE)
        w = np.asarray(init(key, SHAPE), np.float64)
        print(f"\n{name}: {formula}")
        if law.low is not None:
            print(f"  bounds  {law.low!r} {law.high!r}")
        else:
            print(f"  std     {law.std!r}")
        print(f"  min/max {np.min(w):.6f} {np.max(w):.6f}")
        print(f"  mean    {w.mean():.6f} (law: {law.mean:.6f})")
        print(f"  std     {w.std():.6f} (law: {law.std:.6f})")
    print("\nWhere the tutorial's text is wrong:")
    for line in ERRATA:
        print(f"  - {line}")


def print_table(table: dict, depth: int, at: Sequence[int]) -> None:
    """Prints activation std at the chosen depths (each from 1 to `depth`), one row per (activation, initializer)."""
    print(f"{'activation':10s} {'initializer':18s} " + " ".join(f"{'layer ' + str(d):>11s}" for d in at))
    for (activation, name), stds in table.items():
        print(f"{activation:10s} {name:18s} " + " ".join(f"{stds[d - 1]:11.3g}" for d in at))


def _progress(label: str) -> None:
    print(f"  ... {label}", file=sys.stderr, flush=True)


def tour(seed: int, out: pathlib.Path, draw: bool) -> None:
    """The tutorial's examples, its three plots and a signal-propagation figure."""
    examples(seed)
    print(f"\nSignal propagation: activation std through a {TOUR_DEPTH}-layer MLP of width {TOUR_WIDTH}:")
    table = propagation_table(
        jax.random.key(seed), TOUR_INITS, TOUR_ACTIVATIONS, TOUR_DEPTH, TOUR_WIDTH, TOUR_BATCH, _progress
    )
    print_table(table, TOUR_DEPTH, [1, 10, 25, 50])
    print(
        "He keeps ReLU activations alive; the variance-preserving normalized xavier (Glorot) keeps tanh far\n"
        "longer than the tutorial's xavier, whose variance is a third of LeCun's."
    )
    _write_plots(
        draw,
        out,
        lambda: [
            *plots.bound_plots(out),
            plots.propagation_plot(table, TOUR_DEPTH, TOUR_WIDTH, out / "signal_propagation.png"),
        ],
    )


def _write_plots(draw: bool, out: pathlib.Path, make) -> None:
    if not draw:
        return
    if not plots.matplotlib_available():
        print('\nPlots need matplotlib: pip install "jax_weightinit[plot]" (the numbers above are complete).')
        return
    out.mkdir(parents=True, exist_ok=True)
    for path in make():
        print(f"wrote {path}")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive int; got {value}")
    return value


def _bounded(largest: int):
    """A positive int up to `largest`: a (width, width) float32 weight at 8192 is 256 MiB, beyond it memory runs out."""

    def parse(text: str) -> int:
        value = _positive(text)
        if value > largest:
            raise argparse.ArgumentTypeError(f"must be at most {largest}; got {value}")
        return value

    return parse


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int in [0, 2**63); got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be an int in [0, 2**63); got {value}")
    return value


def _check_out(out: pathlib.Path) -> str | None:
    """Why plots cannot be written to `out`, or None; checked before the run, not after it."""
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file, not a folder"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return f"--out {out} cannot be created ({e.strerror})"
    if not os.access(out, os.W_OK):
        return f"--out {out} is not writable"
    return None


def _names(text: str) -> str:
    name = ALIASES.get(text, text)
    if name not in INITIALIZERS:
        allowed = ", ".join([*INITIALIZERS, *(f"{a} (= {n})" for a, n in ALIASES.items())])
        raise argparse.ArgumentTypeError(f"unknown initializer {text!r}; choose from {allowed}")
    return name


def _parser() -> argparse.ArgumentParser:
    defaults = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(prog="jax-weightinit", description=__doc__, formatter_class=defaults)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", title="commands (default: tour)")
    tour_parser = commands.add_parser(
        "tour", help="the tutorial's examples and plots", description=tour.__doc__, formatter_class=defaults
    )
    prop = commands.add_parser(
        "propagate",
        help="activation std through a deep MLP, per initializer",
        description="Activation std after each layer of a bias-free MLP of (width, width) layers fed N(0, 1) "
        "inputs, per activation and initializer.",
        formatter_class=defaults,
    )
    # Given before the command or after it; a subcommand's SUPPRESS default keeps what was given before.
    shared = (
        ("--seed", {"type": _seed}, 0, "PRNG seed"),
        ("--out", {"type": pathlib.Path}, pathlib.Path("weightinit-tour"), "folder for plots"),
        ("--no-plots", {"action": "store_true"}, False, "print only, write no figure"),
    )
    for p, top in ((parser, True), (tour_parser, False), (prop, False)):
        for flag, kind, default, text in shared:
            if top:
                p.add_argument(flag, default=default, help=text, **kind)  # type: ignore[arg-type]
            else:
                p.add_argument(flag, default=argparse.SUPPRESS, help=f"{text} (default: {default})", **kind)  # type: ignore[arg-type]
    prop.add_argument("--depth", type=_bounded(10_000), default=50, help="number of layers")
    prop.add_argument("--width", type=_bounded(8192), default=256, help="units per layer")
    prop.add_argument("--batch", type=_bounded(65_536), default=256, help="inputs per forward pass")
    prop.add_argument(
        "--activation", nargs="+", choices=sorted(ACTIVATIONS), default=["tanh", "relu"], help="activations"
    )
    described = "; ".join(f"{k}: {v}" for k, v in DESCRIPTIONS.items())
    prop.add_argument(
        "--init",
        nargs="+",
        type=_names,
        default=["xavier", "normalized_xavier", "he"],
        metavar="NAME",
        help=f"initializers, as the library names them ({', '.join(INITIALIZERS)}; aliases "
        f"{', '.join(f'{a}={n}' for a, n in ALIASES.items())}); {described}",
    )
    prop.add_argument(
        "--at",
        type=_positive,
        nargs="+",
        default=argparse.SUPPRESS,
        help="layers to print, none beyond the depth (default: 1, depth/5, depth/2 and depth)",
    )
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jax_weightinit")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    problem = None if args.no_plots or not plots.matplotlib_available() else _check_out(args.out)
    if problem:
        parser.error(problem)
    if args.command == "propagate":
        args.at = getattr(args, "at", None)
        beyond = [d for d in args.at or () if d > args.depth]
        if beyond:
            parser.error(f"--at {beyond[0]} is beyond --depth {args.depth}; give layers from 1 to {args.depth}")
        table = propagation_table(
            jax.random.key(args.seed), args.init, args.activation, args.depth, args.width, args.batch, _progress
        )
        at = args.at or sorted({1, max(1, args.depth // 5), max(1, args.depth // 2), args.depth})
        print_table(table, args.depth, at)
        _write_plots(
            not args.no_plots,
            args.out,
            lambda: [plots.propagation_plot(table, args.depth, args.width, args.out / "propagation.png")],
        )
    else:
        tour(args.seed, args.out, not args.no_plots)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
