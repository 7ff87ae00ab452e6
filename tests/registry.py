"""The table every initializer test expands: initializers, layouts and dtypes."""

import jax.numpy as jnp

import jax_weightinit as wi

# Layouts: (name, shape, axes for fan-scaled initializers).
LAYOUTS = [
    ("dense", (64, 128), {}),
    ("conv HWIO", (3, 3, 16, 32), {}),
    ("conv OIHW (torch layout)", (32, 16, 3, 3), {"in_axis": 1, "out_axis": 0}),
    ("einsum (embed, heads, head_dim)", (64, 4, 16), {"in_axis": 0, "out_axis": (1, 2)}),
    ("stacked dense", (4, 64, 128), {"batch_axis": 0}),
]

# Elementwise random initializers whose law depends on the fans: (name, factory of axes).
FAN_SCALED = {
    "glorot_uniform": wi.glorot_uniform,
    "glorot_normal": wi.glorot_normal,
    "lecun_uniform": wi.lecun_uniform,
    "lecun_normal": wi.lecun_normal,
    "he_uniform": wi.he_uniform,
    "he_normal": wi.he_normal,
    "variance_scaling(0.5, fan_geo_avg, normal)": lambda **a: wi.variance_scaling(0.5, "fan_geo_avg", "normal", **a),
    "variance_scaling(3, fan_out, truncated_normal)": lambda **a: wi.variance_scaling(
        3.0, "fan_out", "truncated_normal", **a
    ),
    "xavier": wi.xavier,
    "normalized_xavier": wi.normalized_xavier,
    "he": wi.he,
}

# Elementwise random initializers with one law for every shape.
FIXED = {
    "uniform(0.5)": wi.uniform(0.5),
    "normal(0.3)": wi.normal(0.3),
    "normal(2, mean=-1)": wi.normal(2.0, mean=-1.0),
    "truncated_normal(0.2)": wi.truncated_normal(0.2),
    "truncated_normal far upper tail [5, 6]": wi.truncated_normal(1.0, lower=5.0, upper=6.0),
    "truncated_normal lower tail [-7, -1], mean 3": wi.truncated_normal(0.5, lower=-7.0, upper=-1.0, mean=3.0),
    "truncated_normal absolute [0.1, 0.5], std after": wi.truncated_normal(
        0.1, lower=0.1, upper=0.5, absolute_bounds=True, stddev_after_truncation=True
    ),
}

DTYPES = [jnp.float32, jnp.bfloat16, jnp.float16, "float64 (x64)"]


def random_cases():
    """(id, initializer, shape) for every elementwise random initializer and layout."""
    for name, factory in FAN_SCALED.items():
        for layout, shape, axes in LAYOUTS:
            yield f"{name} on {layout}", factory(**axes), shape
    for name, init in FIXED.items():
        yield f"{name} on dense", init, LAYOUTS[0][1]
        yield f"{name} on conv HWIO", init, LAYOUTS[1][1]
