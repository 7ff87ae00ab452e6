"""`init_tree` against a per-leaf `jax.nn` init of the same transformer-like tree."""

import time

import jax
import jax.numpy as jnp
import numpy as np

import jax_weightinit as wi

WIDTH = 256


def abstract_tree(depth: int) -> dict:
    layer = {
        "attn": {n: {"kernel": jax.ShapeDtypeStruct((WIDTH, WIDTH), jnp.float32)} for n in ("q", "k", "v", "o")},
        "mlp": {
            "up": {"kernel": jax.ShapeDtypeStruct((WIDTH, 4 * WIDTH), jnp.float32)},
            "down": {"kernel": jax.ShapeDtypeStruct((4 * WIDTH, WIDTH), jnp.float32)},
        },
    }
    return {"layers": [layer] * depth}


def per_leaf(key, target):
    """The usual way: split a key per leaf, call jax.nn's initializer leaf by leaf."""
    leaves, treedef = jax.tree_util.tree_flatten(target)
    keys = jax.random.split(key, len(leaves))
    init = jax.nn.initializers.lecun_normal()
    return jax.tree_util.tree_unflatten(treedef, [init(k, x.shape, x.dtype) for k, x in zip(keys, leaves, strict=True)])


def bench_tree(records, depths, repeats, record, timeit):
    key = jax.random.key(0)
    rules = [("kernel$", wi.lecun_normal())]
    for depth in depths:
        target = abstract_tree(depth)
        out_bytes = sum(x.size * 4 for x in jax.tree_util.tree_leaves(target))
        baseline = jax.jit(per_leaf, static_argnums=1)
        jax.clear_caches()
        start = time.perf_counter()
        jax.block_until_ready(baseline(key, _Static(target)))
        first_base = time.perf_counter() - start
        times, _ = timeit(lambda: baseline(key, _Static(target)), repeats)
        memory = baseline.lower(key, _Static(target)).compile().memory_analysis()
        record(
            records,
            f"tree {depth} layers ({6 * depth} kernels)",
            "jax.nn",
            (6 * depth, WIDTH, WIDTH),
            "float32",
            times,
            first_base,
            mode="jit",
            temp_bytes=memory.temp_size_in_bytes,
            output_bytes=out_bytes,
        )

        jax.clear_caches()
        start = time.perf_counter()
        jax.block_until_ready(wi.init_tree(key, target, rules))
        first = time.perf_counter() - start
        times, _ = timeit(lambda: wi.init_tree(key, target, rules), repeats)
        temp = _tree_temp_bytes(key, target, rules)
        record(
            records,
            f"tree {depth} layers ({6 * depth} kernels)",
            "jax_weightinit",
            (6 * depth, WIDTH, WIDTH),
            "float32",
            times,
            first,
            mode="jit",
            temp_bytes=temp,
            output_bytes=out_bytes,
            first_call_ratio=first / first_base,
        )


def _tree_temp_bytes(key, target, rules) -> int:
    """Compiled temp memory of init_tree: the largest of its per-group generators (they run one at a time)."""
    from jax_weightinit._src import tree

    temps = []
    for leaf in {(x.shape, x.dtype) for x in jax.tree_util.tree_leaves(target)}:
        group = tree._Group(rules[0][1], leaf[0], np.dtype(leaf[1]), None)
        compiled = tree._generator(group).lower(key, tree._words("x")).compile()
        temps.append(compiled.memory_analysis().temp_size_in_bytes)
    return max(temps)


class _Static:
    """Hashable wrapper so a pytree of ShapeDtypeStructs can be a static jit argument."""

    def __init__(self, tree):
        self.tree = tree
        self._key = str(jax.tree_util.tree_structure(tree)) + str(jax.tree_util.tree_leaves(tree))

    def __hash__(self):
        return hash(self._key)

    def __eq__(self, other):
        return isinstance(other, _Static) and other._key == self._key


_orig_per_leaf = per_leaf


def per_leaf(key, target):  # noqa: F811 - unwraps _Static
    return _orig_per_leaf(key, target.tree if isinstance(target, _Static) else target)
