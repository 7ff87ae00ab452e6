"""Flax linen: drop an initializer into kernel_init=, or re-initialize the params that
Module.init made by rules."""

import flax.linen as nn
import jax
import jax.numpy as jnp

import jax_weightinit as wi

hidden = nn.Dense(128, kernel_init=wi.he_normal())
model = nn.Sequential([hidden, nn.relu, nn.Dense(10)])
params = model.init(jax.random.key(0), jnp.ones((1, 784)))
rules = [("layers_2/kernel$", wi.glorot_uniform())]
params = wi.init_tree(jax.random.key(1), params, rules)
print(jax.tree_util.tree_map(lambda x: (x.shape, round(float(x.std()), 4)), params))
