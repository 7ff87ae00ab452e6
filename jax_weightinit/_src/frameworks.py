"""Adapters to the initializer conventions of other libraries."""

from collections.abc import Callable

from .typing import Array, DTypeLike, Shape


def to_haiku(init: Callable) -> Callable[[Shape, DTypeLike], Array]:
    """Wraps an initializer as a Haiku initializer, `(shape, dtype) -> array`, for `w_init=`/`b_init=`.

    The key comes from `hk.next_rng_key()`, so the wrapped initializer must be called
    inside `hk.transform` with an RNG, as Haiku's own initializers are.

    Example:
      >>> import jax, jax.numpy as jnp, haiku as hk, jax_weightinit as wi
      >>> f = hk.transform(lambda x: hk.Linear(8, w_init=wi.to_haiku(wi.he_normal()))(x))
      >>> params = f.init(jax.random.key(0), jnp.ones((2, 4)))
      >>> params["linear"]["w"].shape
      (4, 8)
    """
    import haiku as hk

    def haiku_init(shape: Shape, dtype: DTypeLike) -> Array:
        return init(hk.next_rng_key(), tuple(shape), dtype)

    return haiku_init
