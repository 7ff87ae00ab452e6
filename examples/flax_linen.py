"""Flax linen: drop an initializer into kernel_init=, or re-initialize Module.init params by rules."""

import flax.linen as nn
import jax
import jax.numpy as jnp

import jax_weightinit as wi

model = nn.Sequential([nn.Dense(128, kernel_init=wi.he_normal()), nn.relu, nn.Dense(10)])
params = model.init(jax.random.key(0), jnp.ones((1, 784)))
params = wi.init_tree(jax.random.key(1), params, [("layers_2/kernel$", wi.glorot_uniform())])
print(jax.tree_util.tree_map(lambda x: (x.shape, round(float(x.std()), 4)), params))
