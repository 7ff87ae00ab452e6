"""The calls the README shows, as a user script; tests/test_types.py checks it with mypy (it is never run)."""

import jax
import jax.numpy as jnp
from flax import nnx

import jax_weightinit as wi
from jax_weightinit import presets, pytorch, testing


def readme_calls() -> None:
    key = jax.random.key(0)
    init = wi.he_normal()
    w: jax.Array = init(key, (3, 3, 64, 128), jnp.bfloat16)
    law = init.distribution((3, 3, 64, 128))
    print(w.shape, law.std, law.low, law.high, law.cdf(0.0))
    print(pytorch.kaiming_uniform(a=5**0.5).distribution((128, 64, 3, 3)).high)
    print(wi.truncated_normal(1.0, lower=5.0, upper=6.0).distribution((4,)).mean)
    print(wi.glorot_uniform(in_axis=0, out_axis=(1, 2)).distribution((256, 4, 64)).std)
    print(presets.flax_embed().distribution((10, 4)).std, wi.scaled(wi.he_normal(), 0.5).distribution((4, 4)).std)
    as_jax_nn: jax.nn.initializers.Initializer = wi.lecun_normal()
    layer = nnx.Linear(4, 8, kernel_init=wi.he_normal(), bias_init=wi.zeros, rngs=nnx.Rngs(0))
    rules = [("kernel$", wi.he_normal()), ("bias$", wi.zeros)]
    plan: wi.Plan = wi.flax.plan(layer, rules)
    print(as_jax_nn, plan[0].law, wi.flax.reinit(layer, key, rules))
    print(wi.init_tree(key, {"w": jax.ShapeDtypeStruct((4, 4), jnp.float32)}, [("w", wi.he_normal())]))
    print(presets.gpt2_rules(12, residual="c_proj/kernel$"))
    testing.assert_follows(wi.he_normal(), key, (64, 64))
