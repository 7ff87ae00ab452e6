"""Signal propagation: how an initializer carries activations through a deep MLP."""

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .core import Initializer, RandomInitializer
from .heuristics import he, normalized_xavier, xavier
from .pytorch import uniform as torch_uniform
from .variance_scaling import glorot_normal, glorot_uniform, he_normal, he_uniform, lecun_normal, lecun_uniform

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "relu": jax.nn.relu,
    "linear": lambda x: x,
}

INITIALIZERS: dict[str, Callable[[], RandomInitializer]] = {
    "small": lambda: torch_uniform(-0.3, 0.3),  # the tutorial's "small random values in [-0.3, 0.3]"
    "xavier": xavier,
    "normalized_xavier": normalized_xavier,
    "he": he,
    "lecun_normal": lecun_normal,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "lecun_uniform": lecun_uniform,
}
# Short names the tour uses, accepted wherever a name is.
ALIASES = {"lecun": "lecun_normal", "glorot": "glorot_uniform", "kaiming": "he_normal"}
# What each name draws, for help texts and legends.
DESCRIPTIONS = {
    "small": "U[-0.3, 0.3], the tutorial's 'small random values'",
    "xavier": "the tutorial's U[±1/sqrt(n)]",
    "normalized_xavier": "U[±sqrt(6/(n+m))]",
    "he": "N(0, 2/n)",
}


@functools.partial(jax.jit, static_argnames=("init", "activation", "depth", "width", "batch"))
def activation_std(key: jax.Array, init: Initializer, activation: str, depth: int, width: int, batch: int) -> jax.Array:
    """Std of the activations after each of `depth` layers of a bias-free MLP fed N(0, 1) inputs.

    Weights are (width, width), drawn per layer from `init` with the layer's own key;
    the layers run under `lax.scan`, so the cost is one compiled program.

    Returns:
      A `(depth,)` array: entry l is the std over the batch and units after layer l + 1.

    Example:
      >>> import jax, jax_weightinit as wi
      >>> std = activation_std(jax.random.key(0), wi.he(), "relu", 50, 256, 512)
      >>> bool(0.3 < float(std[-1]) < 3.0)
      True
    """
    x_key, w_key = jax.random.split(key)
    x = jax.random.normal(x_key, (batch, width))
    act = ACTIVATIONS[activation]

    def layer(x, k):
        x = act(x @ init(k, (width, width), jnp.float32))
        return x, jnp.std(x)

    _, stds = jax.lax.scan(layer, x, jax.random.split(w_key, depth))
    return stds


def propagation_table(
    key: jax.Array,
    inits: list[str],
    activations: list[str],
    depth: int,
    width: int,
    batch: int,
    progress: Callable[[str], None] | None = None,
) -> dict[tuple[str, str], np.ndarray]:
    """`activation_std` for every (activation, initializer) pair, by name."""
    table = {}
    for activation in activations:
        for name in inits:
            if progress is not None:
                progress(f"{activation} / {name}")
            name = ALIASES.get(name, name)
            table[activation, name] = np.asarray(
                activation_std(key, INITIALIZERS[name](), activation, depth, width, batch)
            )
    return table
