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
      tol: stop a layer once |variance - 1| < tol; in (0, 1).
      max_iter: the most rescalings per layer; positive.

    A layer whose output has zero (or non-finite) variance on `batch` is left unchanged.

    Returns:
      The params with each listed weight multiplied by its factor.

    Raises:
      ValueError: if a path in `weights` names no leaf, `layer_outputs` returns a
        different number of outputs, or `tol` / `max_iter` is out of range.
      TypeError: if `weights` is a string, or `layer_outputs` returns no list.

    Example:
      >>> import jax, jax.numpy as jnp, jax_weightinit as wi
      >>> params = {"l0": 3.0 * jnp.eye(4), "l1": 0.1 * jnp.eye(4)}
      >>> outputs = lambda p, x: [x @ p["l0"], x @ p["l0"] @ p["l1"]]
      >>> x = jax.random.normal(jax.random.key(0), (256, 4))
      >>> new = wi.lsuv(params, outputs, x, ["l0", "l1"])
      >>> [round(float(o.var()), 1) for o in outputs(new, x)]
      [1.0, 1.0]
    """
    if isinstance(weights, str) or not isinstance(weights, Sequence):
        raise TypeError(f"`weights` must be a sequence of paths such as ['l0', 'l1'], not {weights!r}.")
    if not (isinstance(tol, int | float) and not isinstance(tol, bool) and 0 < tol < 1):
        raise ValueError(f"`tol` must be a number in (0, 1); got {tol!r}.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"`max_iter` must be a positive int; got {max_iter!r}.")
    paths = {path_string(p) for p, _ in jax.tree_util.tree_flatten_with_path(params)[0]}
    missing = [w for w in weights if w not in paths]
    if missing:
        raise ValueError(f"`weights` names paths that are not in `params`: {missing!r}.")
    shapes = jax.eval_shape(layer_outputs, params, batch)
    if not isinstance(shapes, list | tuple):
        raise TypeError(
            f"`layer_outputs` must return a list of the layers' outputs, in order; got {type(shapes).__name__}."
        )
    count = len(shapes)
    if count != len(weights):
        raise ValueError(f"`layer_outputs` returned {count} outputs but `weights` lists {len(weights)} paths.")

    return _rescale(params, batch, layer_outputs, tuple(weights), float(tol), int(max_iter))


@functools.partial(jax.jit, static_argnames=("layer_outputs", "weights", "tol", "max_iter"))
def _rescale(params, batch, layer_outputs, weights, tol, max_iter):
    for i, path in enumerate(weights):

        def step(_, p, i=i, path=path):
            variance = jnp.var(layer_outputs(p, batch)[i])
            # A dead layer (zero variance) cannot be scaled to unit variance: it is left as it is, rather
            # than multiplied towards inf and turning the layers after it to NaN.
            settled = (jnp.abs(variance - 1.0) < tol) | ~(variance > 0.0) | ~jnp.isfinite(variance)
            factor = jnp.where(settled, 1.0, jax.lax.rsqrt(jnp.where(settled, 1.0, variance)))
            return _scale_leaf(p, path, factor)

        params = jax.lax.fori_loop(0, max_iter, step, params)
    return params
