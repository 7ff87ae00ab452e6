"""`jax-weightinit` (or `python -m jax_weightinit`): the tutorial's examples, reproduced and checked."""

import argparse
import sys
from collections.abc import Sequence

import jax
import numpy as np

from .heuristics import he, normalized_xavier, xavier

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


def tour(seed: int) -> None:
  """Prints the tutorial's three examples and where its text is wrong."""
  key = jax.random.key(seed)
  print(f"The tutorial's three heuristics for n = {FAN_IN} inputs, m = {FAN_OUT} outputs, {SAMPLES} samples each:")
  for name, factory, formula in EXAMPLES:
    init = factory(batch_axis=BATCH_AXIS)
    law = init.distribution(SHAPE)
    w = np.asarray(init(key, SHAPE, np.float64 if jax.config.jax_enable_x64 else np.float32), np.float64)
    print(f"\n{name}: {formula}")
    if law.low is not None:
      print(f"  bounds  {law.low!r} {law.high!r}")
    else:
      print(f"  std     {law.std!r}")
    print(f"  min/max {w.min():.6f} {w.max():.6f}")
    print(f"  mean    {w.mean():.6f} (law: {law.mean:.6f})")
    print(f"  std     {w.std():.6f} (law: {law.std:.6f})")
  print("\nWhere the tutorial's text is wrong:")
  for line in ERRATA:
    print(f"  - {line}")


def main(argv: Sequence[str] | None = None) -> int:
  """Runs the command line; returns the exit code."""
  parser = argparse.ArgumentParser(prog="jax-weightinit", description=__doc__)
  commands = parser.add_subparsers(dest="command")
  tour_parser = commands.add_parser("tour", help="print the tutorial's examples (the default)")
  for p in (parser, tour_parser):
    p.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
  args = parser.parse_args(argv)
  tour(args.seed)
  return 0


if __name__ == "__main__":  # pragma: no cover
  sys.exit(main())
