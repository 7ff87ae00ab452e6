"""The tutorial's claim on real data: a 24-layer ReLU MLP on scikit-learn's digits, per initializer and LSUV.

    python examples/digits_training.py [--steps 400] [--out digits_loss.png] [--no-plot]

The digits data (1,797 8x8 images) ships with scikit-learn: nothing is downloaded.
"""

import argparse
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import load_digits

import jax_weightinit as wi

DEPTH, WIDTH, CLASSES = 24, 64, 10
INITS = {
    "small U[-0.3, 0.3]": wi.pytorch.uniform(-0.3, 0.3),
    "xavier (tutorial)": wi.xavier(),
    "normalized xavier": wi.normalized_xavier(),
    "lecun_normal": wi.lecun_normal(),
    "he": wi.he(),
}


def shapes():
    dims = [64] + [WIDTH] * (DEPTH - 1) + [CLASSES]
    return {
        "layers": [
            {"kernel": jax.ShapeDtypeStruct((a, b), jnp.float32), "bias": jax.ShapeDtypeStruct((b,), jnp.float32)}
            for a, b in zip(dims, dims[1:], strict=False)
        ]
    }


def pre_activations(params, x):
    outs = []
    for layer in params["layers"]:
        x = x @ layer["kernel"] + layer["bias"]
        outs.append(x)
        x = jax.nn.relu(x)
    return outs


def loss_fn(params, x, y):
    logits = pre_activations(params, x)[-1]
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def train(params, x, y, steps, seed):
    optimizer = optax.sgd(0.01, momentum=0.9)
    state = optimizer.init(params)

    @jax.jit
    def step(params, state, key):
        idx = jax.random.choice(key, x.shape[0], (128,), replace=False)
        loss, grads = jax.value_and_grad(loss_fn)(params, x[idx], y[idx])
        updates, state = optimizer.update(grads, state)
        return optax.apply_updates(params, updates), state, loss

    losses = []
    for key in jax.random.split(jax.random.key(seed), steps):
        params, state, loss = step(params, state, key)
        losses.append(float(loss))
    return losses


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--out", default="digits_loss.png")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    digits = load_digits()
    x = jnp.asarray((digits.data - digits.data.mean(0)) / (digits.data.std(0) + 1e-6), jnp.float32)
    y = jnp.asarray(digits.target)
    key = jax.random.key(args.seed)
    rules = {name: [("kernel$", init), ("bias$", wi.zeros)] for name, init in INITS.items()}
    runs = {name: wi.init_tree(key, shapes(), r) for name, r in rules.items()}
    weights = [f"layers/{i}/kernel" for i in range(DEPTH)]
    orthogonal = wi.init_tree(key, shapes(), [("kernel$", wi.orthogonal()), ("bias$", wi.zeros)])
    runs["LSUV (orthogonal + unit variance)"] = wi.lsuv(orthogonal, pre_activations, x[:512], weights)

    curves = {}
    for name, params in runs.items():
        curves[name] = train(params, x, y, args.steps, args.seed)
        print(f"{name:36s} loss: first {curves[name][0]:9.4g}  last {np.mean(curves[name][-20:]):9.4g}", flush=True)
    if not args.no_plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 5))
        for name, losses in curves.items():
            ax.plot(np.minimum(losses, 10.0), label=name)
        ax.set(
            title=f"{DEPTH}-layer ReLU MLP on digits (SGD, momentum 0.9)",
            xlabel="step",
            ylabel="training loss (clipped at 10)",
        )
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.out, dpi=110)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
