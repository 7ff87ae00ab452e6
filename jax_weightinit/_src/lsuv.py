"""Layer-sequential unit-variance initialization (Mishkin & Matas, 2015), pure and jittable."""

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from .keys import path_string


def _scale_leaf(params: Any, path: str, factor: jax.Array) -> Any:
    def scale(p, leaf):
        return leaf * factor.astype(leaf.dtype) if path_string(p) == path else leaf

    return jax.tree_util.tree_map_with_path(scale, params)


def lsuv(
    params: Any,
    layer_outputs: Callable[[Any, Any], Sequence[jax.Array]],
    batch: Any,
    weights: Sequence[str],
    *,
    tol: float = 0.05,
    max_iter: int = 10,
) -> Any:
    """Rescales each layer's weight, first to last, until its output has unit variance on `batch`.

    This is LSUV's second step; its first, an orthogonal init, is `init_tree` with
    `orthogonal()`. The function is pure: it can run under `jit` (with `weights`,
    `tol` and `max_iter` static) and returns new params.

    Args:
      params: the model's parameter pytree.
      layer_outputs: `(params, batch) -> [output of layer 0, output of layer 1, ...]`,
        the pre-activation outputs of the layers to normalize, in order.
      batch: the data to measure on.
      weights: for each output, the path (see `path_string`) of the weight to rescale.
      tol: stop a layer once |variance - 1| < tol.
      max_iter: the most rescalings per layer.

    Returns:
      The params with each listed weight multiplied by its factor.

    Raises:
      ValueError: if a path in `weights` names no leaf, or `layer_outputs` returns a
        different number of outputs.

    Example:
      >>> import jax, jax.numpy as jnp, jax_weightinit as wi
      >>> params = {"l0": 3.0 * jnp.eye(4), "l1": 0.1 * jnp.eye(4)}
      >>> outputs = lambda p, x: [x @ p["l0"], x @ p["l0"] @ p["l1"]]
      >>> x = jax.random.normal(jax.random.key(0), (256, 4))
      >>> new = wi.lsuv(params, outputs, x, ["l0", "l1"])
      >>> [round(float(o.var()), 1) for o in outputs(new, x)]
      [1.0, 1.0]
    """
    paths = {path_string(p) for p, _ in jax.tree_util.tree_flatten_with_path(params)[0]}
    missing = [w for w in weights if w not in paths]
    if missing:
        raise ValueError(f"`weights` names paths that are not in `params`: {missing!r}.")
    count = len(jax.eval_shape(layer_outputs, params, batch))
    if count != len(weights):
        raise ValueError(f"`layer_outputs` returned {count} outputs but `weights` lists {len(weights)} paths.")

    return _rescale(params, batch, layer_outputs, tuple(weights), float(tol), int(max_iter))


@functools.partial(jax.jit, static_argnames=("layer_outputs", "weights", "tol", "max_iter"))
def _rescale(params, batch, layer_outputs, weights, tol, max_iter):
    for i, path in enumerate(weights):

        def step(_, p, i=i, path=path):
            variance = jnp.var(layer_outputs(p, batch)[i])
            factor = jnp.where(jnp.abs(variance - 1.0) < tol, 1.0, jax.lax.rsqrt(jnp.maximum(variance, 1e-30)))
            return _scale_leaf(p, path, factor)

        params = jax.lax.fori_loop(0, max_iter, step, params)
    return params
