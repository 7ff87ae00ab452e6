"""Correct whole-model code that mypy must accept; tests/test_types.py checks it (it is never run)."""

import equinox as eqx
import jax
import jax.numpy as jnp
from flax import nnx

import jax_weightinit as wi
from jax_weightinit import presets


class Model(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.dense = nnx.Linear(4, 8, rngs=rngs)


def rule_lists() -> None:
    key = jax.random.key(0)
    model = Model(nnx.Rngs(0))
    rules = [("kernel$", wi.he_normal()), ("bias$", wi.zeros)]
    model = wi.flax.reinit(model, key, rules)  # reinit returns the argument's own type
    model = wi.flax.reinit(model, nnx.Rngs(params=1), rules)
    mlp = eqx.nn.MLP(4, 2, 8, depth=1, key=key)
    mlp = wi.equinox.reinit(mlp, key, [("weight$", wi.he_normal())])
    mixed = [("kernel$", wi.he_normal()), (lambda path, leaf: leaf.ndim == 1, wi.zeros)]
    target = {"w": jax.ShapeDtypeStruct((4, 4), jnp.float32)}
    wi.init_tree(key, target, mixed)
    annotated: wi.Rules = [("kernel$", wi.he_normal()), (lambda path, leaf: True, wi.zeros)]
    both = mixed + presets.gpt2_rules(12, residual="c_proj/kernel$")
    extended = annotated + rules + presets.gpt2_rules(12, residual="c_proj/kernel$")
    print(wi.plan(target, both), wi.plan(target, extended).unused_rules, model, mlp)
