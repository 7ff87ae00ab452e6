"""Haiku: any initializer as w_init= through to_haiku, its key drawn from
hk.next_rng_key()."""

import haiku as hk
import jax
import jax.numpy as jnp

import jax_weightinit as wi


def forward(x):
    x = jax.nn.relu(hk.Linear(256, w_init=wi.to_haiku(wi.he_normal()))(x))
    return hk.Linear(10, w_init=wi.to_haiku(wi.orthogonal()))(x)


params = hk.transform(forward).init(jax.random.key(0), jnp.ones((1, 784)))
print(jax.tree_util.tree_map(lambda x: x.shape, params))
