"""Samplers: draw a `Distribution` at float32 (or float64) and round once to the output dtype.

Every sampler starts from the same uniform grid: the midpoints (m + 1/2) / 2^23 for
m in [0, 2^23) (2^52 under float64), which are exact in the compute dtype, never 0
or 1, and symmetric about 1/2. Normals are Φ⁻¹(u) (`quantile.normal_quantile`), which
spans ±5.3 std in float32 (±8.2 in float64); the mass left out, 1.2e-7, is below what
a float32 uniform can resolve. Truncated normals are Φ⁻¹(Φ(a) + u·(Φ(b) − Φ(a))),
formed from the nearer tail, so an interval such as [5, 6] std keeps its exact law.
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from . import blocks, laws, placement, quantile, tunables
from .keys import bits_by_counter, impl_name
from .laws import Distribution
from .rounded import rounded

# Root mean square of a complex normal (density ∝ exp(-|z|²)) whose modulus is truncated
# at 2: |z|² is Exp(1) conditioned on |z|² <= 4. jax.nn uses 0.95311164380491208, which
# leaves E|z|² 1.9% above the requested variance.
COMPLEX_TRUNCATED_STD = math.sqrt(1.0 - 4.0 * math.exp(-4.0) / -math.expm1(-4.0))


def compute_dtype(dtype: np.dtype) -> np.dtype:
    """The real dtype a sampler computes in before rounding to `dtype`."""
    real = np.dtype(jnp.finfo(dtype).dtype)
    return np.dtype(np.float64) if real == np.float64 else np.dtype(np.float32)


def unit_uniform(key: jax.Array, shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
    """Uniform midpoints in (0, 1) with 23 (float32) or 52 (float64) bits."""
    return from_bits(random_bits(key, shape, dtype), dtype)


def random_bits(key: jax.Array, shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
    """The random words a compute dtype's uniforms are made of: 32 bits for float32, 64 for float64."""
    return jax.random.bits(key, shape, jnp.uint64 if dtype == np.float64 else jnp.uint32)


def from_bits(bits: jax.Array, dtype: np.dtype) -> jax.Array:
    """The uniform midpoint that 32 (float32) or 64 (float64) random bits stand for."""
    if dtype == np.float64:
        return ((bits >> 12).astype(dtype) + 0.5) * 2.0**-52
    return ((bits >> 9).astype(dtype) + 0.5) * 2.0**-23


def _case(law: Distribution, dtype: np.dtype) -> tuple[str, list[float]]:
    """How to sample `law`, and its five standardized numbers, in float64 on the host: for the normal family Φ(a),
    1 − Φ(b), Φ(b) − Φ(a) and the uniform that stands for the median of N(0, 1), as its value in the compute dtype
    plus the rest. They depend on the law's bounds in std units only (`standard_bounds`)."""
    if law.family == "uniform":
        return "uniform", [0.0] * 5
    if law.family == "normal":
        below, above, mass = 0.0, 0.0, 1.0
    else:
        a, b = law.standard_bounds
        below, above, mass = laws.normal_cdf(a), laws.normal_sf(b), laws.normal_mass(a, b)
    step = 2.0**-53 if compute_dtype(dtype) == np.float64 else 2.0**-24  # the smallest uniform midpoint
    far = min(below, above) + mass * step < quantile.FAR_TAIL
    center = (0.5 - below) / mass
    center_high = float(np.asarray(center, compute_dtype(dtype)))
    return law.family + ("-far" if far else ""), [below, above, mass, center_high, center - center_high]


def _standard(u: jax.Array, case: str, below, above, mass, center, center_low) -> jax.Array:
    """Maps uniforms to the standardized law: U[-1, 1], N(0, 1) or a truncated N(0, 1).

    A normal law's uniform u stands for p = Φ(a) + u·(Φ(b) − Φ(a)). Each of p − ½, p and
    1 − p is formed where it keeps its digits: p − ½ = mass·(u − u½) from the uniform u½
    of the median (held as a sum of two floats, so u − u½ is exact near it), p and 1 − p
    from their own tails.
    """
    if case == "uniform":
        return 2.0 * u - 1.0
    q = mass * ((u - center) - center_low)
    return quantile.normal_quantile(q, below + mass * u, above + mass * (1.0 - u), far="-far" in case)


# A truncated normal that at most this many values of the output dtype carry is drawn from its rounded law.
GRID = 4096


def _grid(law: Distribution, dtype: np.dtype) -> np.ndarray | None:
    """For a truncated normal narrow against the dtype's spacing: its rounded law, as cumulative probabilities
    then values (each padded to `GRID`), or None.

    On such an interval ([5, 5.00001] std in float32 holds 21 float32 values) the inverse CDF,
    computed in the compute dtype, cannot resolve the interval; drawing the value of each
    representable point with its exact probability is the law rounded once, by construction.
    """
    if law.family != "truncated_normal":
        return None
    grid = rounded(law, dtype, limit=GRID)
    if grid is None or grid.values.size > GRID:
        return None
    cumulative = np.minimum(np.cumsum(grid.probs) / np.sum(grid.probs), 1.0)
    cumulative[-1] = 1.0
    pad = GRID - grid.values.size
    return np.concatenate([cumulative, np.full(pad, 1.0), grid.values, np.full(pad, grid.values[-1])])


def prepare(law: Distribution, dtype: np.dtype) -> tuple[str, np.ndarray]:
    """The sampling case of `law` and its numbers, in the dtype the sampler computes in.

    Eleven numbers for the inverse-CDF cases; the last two are the bounds rounded once from
    float64 to `dtype` (exact in the compute dtype): the support of the output, whatever
    the rounding on the way. For the 'grid' case, the rounded law's table. Computed once
    per law and dtype, on the host; the array is shared through the cache, so read-only.
    A law with traced numbers gets them as a traced array (`_prepare_traced`).
    """
    if law.traced:
        return _prepare_traced(law, np.dtype(dtype))  # type: ignore[return-value]
    return _prepare_cached(law, np.dtype(dtype))


@functools.lru_cache(maxsize=256)
def _prepare_cached(law: Distribution, dtype: np.dtype) -> tuple[str, np.ndarray]:
    case, numbers = _prepare(law, dtype)
    numbers.flags.writeable = False
    return case, numbers


def _prepare(law: Distribution, dtype: np.dtype) -> tuple[str, np.ndarray]:
    table = _grid(law, dtype)
    if table is not None:
        return "grid", table.astype(compute_dtype(dtype))
    case, standard = _case(law, dtype)
    (low, high), (rounded_low, rounded_high) = (
        (-math.inf if a is None else a, math.inf if b is None else b)
        for a, b in ((law.low, law.high), law.rounded_bounds(dtype))
    )
    numbers = [law.loc, law.scale, *standard, low, high, rounded_low, rounded_high]
    with np.errstate(over="ignore"):  # a bound beyond the compute dtype's range is ±inf there
        return case, np.array(numbers, compute_dtype(dtype))


def _prepare_traced(law: Distribution, dtype: np.dtype) -> tuple[str, jax.Array]:
    """`prepare` for a law with traced numbers: the same eleven numbers, computed in the trace.

    Where the standardized law is known (bounds in std units, or none) its numbers come from
    the host as for a concrete law, and the traced location, scale and bounds are the
    numbers the law was built with, computed in float64 under jax_enable_x64 (the host's
    arithmetic, so the same bits as the concrete call) or else float32 (at most 1 ulp apart
    where the law's formula rounds). Truncation bounds that are themselves traced give the
    standardized numbers in the trace too, by the far-tail case. A law that is no law (a
    scale not above 0, bounds out of order) gives NaN: its values are unknown until it runs.
    """
    compute = compute_dtype(dtype)
    wide = jax.dtypes.canonicalize_dtype(np.float64)
    a, b = law.standard_bounds if law.family == "truncated_normal" else (-math.inf, math.inf)
    if not any(isinstance(v, jax.core.Tracer) for v in (a, b)):  # the standardized law is known: the host's numbers
        case, host = _case(law, dtype)
        standard = jnp.asarray(np.array(host, compute))
    else:
        standard = _standard_numbers(jnp.asarray(a, wide), jnp.asarray(b, wide), compute)
        case = "truncated_normal-far" + PER_VALUE

    def number(x, default: float) -> jax.Array:
        return jnp.asarray(default if x is None else x, wide)

    loc, scale = number(law.loc, 0.0), number(law.scale, 1.0)
    low, high = number(law.low, -math.inf), number(law.high, math.inf)
    rounded_low, rounded_high = (jnp.asarray(x.astype(dtype), compute) for x in (low, high))
    numbers = jnp.concatenate([jnp.stack([loc, scale]).astype(compute), standard])
    numbers = jnp.concatenate([numbers, jnp.stack([low, high]).astype(compute), jnp.stack([rounded_low, rounded_high])])
    return case, jnp.where((scale > 0) & (low < high), numbers, jnp.nan)


def _standard_numbers(a: jax.Array, b: jax.Array, compute: np.dtype) -> jax.Array:
    """Φ(a), 1 − Φ(b), Φ(b) − Φ(a), and the median's uniform as two numbers, for traced bounds `a`, `b` in std
    units: each formed as `_case` forms it on the host, from the nearer tail or, about 0, from erf."""
    ndtr, erf = jax.scipy.special.ndtr, jax.scipy.special.erf
    below, above = ndtr(a), ndtr(-b)
    inner = 0.5 * (erf(b / math.sqrt(2.0)) - erf(a / math.sqrt(2.0)))
    mass = jnp.where(a >= 0, ndtr(-a) - above, jnp.where(b <= 0, ndtr(b) - below, inner))
    center = -0.5 * erf(a / math.sqrt(2.0)) / mass  # (½ − Φ(a)) / mass
    center_high = center.astype(compute)
    return jnp.stack([below, above, mass, center_high, center - center_high]).astype(compute)


def transform(u: jax.Array, params: jax.Array, case: str, dtype: np.dtype) -> jax.Array:
    """Maps unit uniforms to the law that `params` and `case` describe, rounded once to `dtype`.

    Each element's value depends on its uniform and the law alone, never on the array's shape,
    its neighbours or what the caller does with the result (`in_whole_vectors`).
    """
    params = _kept(params)
    # Rounded to `dtype` outside the conditional: a conversion rounds the same wherever XLA puts it, and inside it
    # XLA:CPU wrote a narrower dtype far more slowly (`docs/design.md`).
    return in_whole_vectors(lambda u: _law(u, params, case, dtype), u).astype(dtype)


def transform_bits(bits: jax.Array, params: jax.Array, case: str, dtype: np.dtype, made=None) -> jax.Array:
    """`transform` of the uniforms that random `bits` stand for (`from_bits`), in one pass over the bits; of
    `made(bits)` when `made` is given (`in_whole_vectors`)."""
    params = _kept(params)
    # Rounded to `dtype` outside the conditional, as in `transform`.
    values = in_whole_vectors(lambda bits: _law(from_bits(bits, params.dtype), params, case, dtype), bits, made)
    return values.astype(dtype)


def draw_bits(key: jax.Array, params: jax.Array, case: str, shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
    """`transform_bits` of `key`'s random bits of `shape`. Bits that are not counted per element (rbg and
    unsafe_rbg keys, which `blocks` cannot draw in blocks) are made inside the law's conditional, where XLA:CPU
    fuses their making into the law's loop: made outside, they would be written out whole and read back
    (`docs/design.md`)."""
    if bits_by_counter(key):
        return transform_bits(random_bits(key, shape, params.dtype), params, case, dtype)
    return transform_bits(key, params, case, dtype, made=lambda key: random_bits(key, shape, params.dtype))


def _kept(params: jax.Array) -> jax.Array:
    # Under a caller's trace `params` are constants, and XLA would fold them into the arithmetic
    # differently from an eager call (1 ulp apart): the barrier keeps them arguments, so eager and
    # `jit` agree bit for bit.
    return jax.lax.optimization_barrier(params)


#: The suffix of a case whose standardized numbers may differ from one swept value to the next (traced bounds).
PER_VALUE = "-per-value"


def _law(u: jax.Array, params: jax.Array, case: str, dtype: np.dtype) -> jax.Array:
    """The law's values in the compute dtype, kept within the bounds rounded once to `dtype`; the caller rounds."""
    if case == "grid":
        cumulative, values = params[:GRID], params[GRID:]
        return values[jnp.minimum(jnp.searchsorted(cumulative, u), GRID - 1)]
    loc, scale, *numbers, low, high, rounded_low, rounded_high = params
    if case.endswith(PER_VALUE):
        standard = _standard(u, case, *numbers)
    else:  # the standardized numbers are the host's: one standard draw serves every value swept
        standard = _shared_standard(case)(u, params[2:7])
    x = jnp.clip(loc + scale * standard, low, high)
    if np.dtype(dtype) != x.dtype:
        # Rounding to the compute dtype, then to `dtype`, can cross a bound that rounding once would not
        # (a float32 value on a float16 midpoint): the output is kept in the bounds rounded once. Those bounds
        # are values of `dtype` and rounding is monotone, so clipping before rounding gives the same numbers
        # as clipping after, in the compute dtype, which XLA:CPU does without converting bfloat16 back.
        x = jnp.clip(x, rounded_low, rounded_high)
    return x


@functools.cache
def _shared_standard(case: str):
    """`_standard(u, case, *numbers)` whose `vmap` over the law's numbers alone (a sweep of a scale, mean or gain:
    `_prepare_traced`) draws the standardized values once: those numbers come from the host and are the same for
    every value, so only the location and scale that follow are batched, as jax.nn's sweeps multiply one draw."""

    def standard(u: jax.Array, numbers: jax.Array) -> jax.Array:
        return _standard(u, case, *numbers)

    shared = jax.custom_batching.custom_vmap(standard)

    @shared.def_vmap
    def _(axis_size: int, in_batched: list, u: jax.Array, numbers: jax.Array):
        u_batched, numbers_batched = in_batched
        if numbers_batched and not u_batched:
            return standard(u, numbers[0]), False
        return jax.vmap(standard, in_axes=(0 if u_batched else None, 0 if numbers_batched else None))(u, numbers), True

    # Its numbers are the host's and its uniforms come from bits, so nothing differentiable flows through it; its
    # derivative is stated as zero so that `grad` and `jit(value_and_grad)` compute it as a plain primal.
    @jax.custom_jvp
    def constant(u: jax.Array, numbers: jax.Array) -> jax.Array:
        return shared(u, numbers)

    @constant.defjvp
    def _(primals: tuple, tangents: tuple) -> tuple[jax.Array, jax.Array]:
        out = shared(*primals)
        return out, jnp.zeros_like(out)

    return constant


# The last dim of the arrays a law is computed on by XLA:CPU: a multiple of every vector width times its unroll.
LANES = 128


def in_whole_vectors(f, x: jax.Array, made=None) -> jax.Array:
    """`f(x)` for an `f` elementwise along the last dim, computed on CPU in rows of a multiple of `LANES`
    elements and kept apart from the program around it; `f(made(x))` when `made` is given, the rows made
    inside (bits from a key), so that XLA fuses their making into the law's loop rather than writing them out.

    XLA:CPU lets LLVM fuse a multiply and an add into one FMA where it sees them together,
    and what it sees depends on the code around: in a sum of two products (the quantile's
    q·√(2π) + q·c) the vector loop fuses one and the scalar code for a one-lane tail the
    other (the last column of an (n, 9) normal draw was 1-2 ulp off the same uniforms
    drawn at (9n,)); a caller's slice fused into the draw moved that tail; and a uniform
    leaf laid out after a neighbour in a segment lost its FMA (a third of its elements 1 ulp
    off its direct call). Here the last dim is padded to whole vectors and the values are
    computed inside a conditional, whose boundary no fusion crosses, then cut: every
    element comes from the same vector code, whatever the shape, shard, segment or the
    caller's program. On GPU and TPU an element is one thread's, and `f` runs as it is.
    """

    make = made or (lambda x: x)
    rows = jax.eval_shape(make, x)
    scalar = rows.ndim == 0
    n = 1 if scalar else rows.shape[-1]
    pad = -n % LANES

    def in_rows(x):
        x = make(x)
        x = x[None] if scalar else x
        if pad:
            x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, pad)], constant_values=_padding(x.dtype))
        return f(x)

    def on_cpu(x):
        out = jax.eval_shape(in_rows, x)
        # A predicate XLA cannot fold, and never batched under `vmap`: the conditional stays one.
        taken = jax.lax.optimization_barrier(np.bool_(True))
        x = jax.lax.cond(taken, in_rows, lambda x: jnp.zeros(out.shape, out.dtype), x)
        x = x[..., :n] if pad else x
        return x[0] if scalar else x

    return jax.lax.platform_dependent(x, cpu=on_cpu, default=lambda x: f(make(x)))


def _padding(dtype: np.dtype) -> float | int:
    """A value of the inputs a law maps that pads a row: a uniform's median, or any bits."""
    return 0 if jnp.issubdtype(dtype, jnp.integer) else 0.5


@functools.partial(jax.jit, static_argnames=("case", "shape", "dtype", "sharding", "blocked"))
def _sample(key, params, case: str, shape: tuple[int, ...], dtype: np.dtype, sharding, blocked: bool) -> jax.Array:
    def whole(k, p):
        def draw(k, p):
            return draw_bits(k, p, case, shape, dtype)

        return placement.place(draw, sharding, k, p)

    if not blocked:
        return whole(key, params)

    def in_blocks(block_bytes):
        def drawn(k, p):
            return blocks.draw_in_blocks(
                k, shape, sharding, lambda bits: transform_bits(bits, p, case, dtype), block_bytes
            )

        return drawn

    # Blocks or not, the values are the same bits; which is faster depends on the platform (see `blocks`).
    limits = tunables.TUNABLES
    large = blocks.shard_bytes(shape, sharding) > limits.accelerator_whole_bytes
    accelerator = in_blocks(limits.accelerator_block_bytes) if large else whole
    return jax.lax.platform_dependent(key, params, cpu=in_blocks(limits.block_bytes), default=accelerator)


def sample(key, law: Distribution, shape: tuple[int, ...], dtype: np.dtype, sharding=None) -> jax.Array:
    """Draws an array of `shape` whose elements follow `law`, rounded once to `dtype`.

    Compiles once per (family, tail case, shape, dtype, sharding): the law's numbers
    are arguments, so layers of one shape share a compiled sampler whatever their fans.
    """
    case, params = prepare(law, dtype)
    return sample_prepared(key, case, params, shape, dtype, sharding)


def sample_prepared(key, case: str, params, shape: tuple[int, ...], dtype: np.dtype, sharding=None) -> jax.Array:
    """`sample`, from the case and numbers `prepare` gives."""
    blocked = blocks.applies(key, shape, np.dtype(params.dtype), sharding)
    if sharding is None and isinstance(key, jax.core.Tracer) and _keys_batch_in_turn(key, params):
        return _over_keys(case, shape, np.dtype(dtype), blocked)(key, params)
    with placement.entered(sharding):
        return _sample(key, params, case, shape, dtype, sharding, blocked)


def _keys_batch_in_turn(key, params) -> bool:
    """Whether a `vmap` over keys may draw key by key: threefry keys, whose bits are per key whatever the batch,
    a float32 compute dtype, which XLA:CPU draws faster in cache-sized steps, and one device. On several devices
    the keys or the caller's `out_shardings` may shard the batch, and XLA's partitioner cannot split a loop over
    it (it would draw every key on every device), so the batch stays one program there, as `blocks` does."""
    return impl_name(key) == "threefry2x32" and np.dtype(params.dtype) == np.float32 and jax.device_count() == 1


@functools.cache
def _over_keys(case: str, shape: tuple[int, ...], dtype: np.dtype, blocked: bool):
    """`_sample` for one key, whose `vmap` over keys (as `jax.vmap(init)(keys)`, linen's `nn.scan` and `nnx.vmap`
    do) draws on CPU a few keys per step, about one block of bits at a time, rather than one program over every key:
    XLA:CPU streams a batched threefry through memory, and a step that stays in cache is faster (see `blocks`).
    Each key's array is the one key's draw bit for bit; on GPU and TPU the batch stays one fused program.
    """
    one = _one_key(case, shape, dtype, blocked)
    batched = jax.custom_batching.custom_vmap(one)

    @batched.def_vmap
    def _(axis_size: int, in_batched: list, key, params):
        key_batched, params_batched = in_batched
        if params_batched or not key_batched:
            axes = (0 if key_batched else None, 0 if params_batched else None)
            return jax.vmap(one, in_axes=axes)(key, params), True
        return _keys_in_turn(case, shape, dtype, blocked)(key, params), True

    # Differentiated by the law's numbers (a swept scale under `grad`), it is the plain draw's derivative: the
    # conditional batching above has no derivative rule of its own.
    @jax.custom_jvp
    def drawn(key, params):
        return batched(key, params)

    @drawn.defjvp
    def _(primals: tuple, tangents: tuple) -> tuple[jax.Array, jax.Array]:
        key, params = primals
        return jax.jvp(lambda p: one(key, p), (params,), (tangents[1],))

    return drawn


def _one_key(case: str, shape: tuple[int, ...], dtype: np.dtype, blocked: bool):
    """`_sample` for one key and no sharding, as a function of (key, params)."""
    return functools.partial(_sample, case=case, shape=shape, dtype=dtype, sharding=None, blocked=blocked)


@functools.cache
def _keys_in_turn(case: str, shape: tuple[int, ...], dtype: np.dtype, blocked: bool):
    """The draws of a batch of threefry keys at one law's numbers, a few keys per step on CPU, as one jitted function:
    an eager `vmap` over keys compiles it once, not on every call."""
    one = _one_key(case, shape, dtype, blocked)

    def in_turn(keys, p):
        per_step = max(1, min(len(keys), tunables.TUNABLES.block_bytes // (4 * max(1, math.prod(shape)))))
        return blocks.loaded(jax.lax.map(lambda k: blocks.stored(one(k, p)), keys, batch_size=per_step), dtype)

    def together(keys, p):
        return jax.vmap(one, in_axes=(0, None))(keys, p)

    return jax.jit(lambda keys, p: jax.lax.platform_dependent(keys, p, cpu=in_turn, default=together))


def sample_many(keys, case: str, params, shape: tuple[int, ...], dtype: np.dtype, sharding=None) -> jax.Array:
    """Draws a stack of arrays, the i-th equal to `sample_prepared(keys[i], case, params[i], shape, dtype,
    sharding)` bit for bit.

    The bits of all keys come from one vectorized generator, so the program has one
    generator loop per call rather than one per key. Call it inside a traced function.
    """

    def one(k, p):
        return transform_bits(random_bits(k, shape, p.dtype), p, case, dtype)

    return placement.place(jax.vmap(one), placement.stacked(sharding), keys, params)


@functools.partial(jax.jit, static_argnames=("family", "shape", "dtype", "sharding"))
def _sample_complex(key, family: str, std, shape: tuple[int, ...], dtype: np.dtype, sharding) -> jax.Array:
    return placement.place(lambda k, s: _complex(k, family, s, shape, dtype), sharding, key, std)


def sample_complex(key, family: str, std: float, shape: tuple[int, ...], dtype: np.dtype, sharding=None) -> jax.Array:
    """Draws complex values with E|z|² = std², as `jax.nn.initializers` defines each family.

    'normal': real and imaginary parts i.i.d. N(0, std²/2). 'uniform': uniform on the
    disk of radius √2·std. 'truncated_normal': a complex normal truncated to modulus
    at most 2 (in units of its pre-truncation std), rescaled to E|z|² = std².
    """
    with placement.entered(sharding):  # the std is an argument: one compiled sampler serves every scale
        numbers = jnp if isinstance(std, jax.Array) else np  # a traced std stays traced
        return _sample_complex(key, family, numbers.asarray(std, compute_dtype(dtype)), shape, dtype, sharding)


def _complex(key, family: str, std, shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
    std = jax.lax.optimization_barrier(std)  # a constant under the caller's trace: see `transform`
    u = unit_uniform(key, (2, *shape), compute_dtype(dtype))
    if not shape:  # the two parts of one value, as a row of one
        return in_whole_vectors(lambda u: _complex_law(u, family, std, dtype), u[:, None])[0]
    return in_whole_vectors(lambda u: _complex_law(u, family, std, dtype), u)


def _complex_law(u, family: str, std, dtype: np.dtype) -> jax.Array:
    """The complex values whose real and imaginary parts' uniforms are u[0] and u[1]."""
    if family == "normal":
        # Each part N(0, std²/2).
        z = (std * math.sqrt(0.5)) * quantile.of_uniform(u)
        out = jax.lax.complex(z[0], z[1])
    else:
        if family == "uniform":
            radius = std * jnp.sqrt(2.0 * u[0])
        else:
            # -log(1 - t) with t uniform on [0, 1 - e^-4]: the squared modulus truncated at 4.
            t = -math.expm1(-4.0) * u[0]
            radius = (std / COMPLEX_TRUNCATED_STD) * jnp.sqrt(-jnp.log1p(-t))
        theta = (2.0 * math.pi) * u[1]
        out = jax.lax.complex(radius * jnp.cos(theta), radius * jnp.sin(theta))
    return out.astype(dtype)


@functools.partial(jax.jit, static_argnames=("shape", "dtype", "sharding"))
def _full(value, shape: tuple[int, ...], dtype: np.dtype, sharding) -> jax.Array:
    return placement.place(lambda v: jnp.full(shape, v, dtype), sharding, value)


def full(value, shape: tuple[int, ...], dtype: np.dtype, sharding=None) -> jax.Array:
    """A constant array, placed on `sharding` when given."""
    if isinstance(value, int) and not isinstance(value, bool) and not fits_jit(value):
        # `jit` would hold it as int32 without x64 and overflow; the checked dtype holds it, as in `jnp.full`.
        value = np.asarray(value, dtype)
    with placement.entered(sharding):
        return _full(value, shape, dtype, sharding)


def fits_jit(value: object) -> bool:
    """Whether `jit` can take `value` as an argument: a Python bool, float or complex, or an int that it holds in
    int32 (int64 with x64)."""
    if isinstance(value, bool | float | complex):
        return True
    if not isinstance(value, int):
        return False
    info = np.iinfo(_jit_dtype(value))
    return int(info.min) <= value <= int(info.max)


def full_on_host(value: bool | int | float | complex, shape: tuple[int, ...], dtype: np.dtype, where) -> jax.Array:
    """`full(value, shape, dtype)` placed on `where` (a sharding, or None), filled on the host and transferred, so
    that no shape costs a compile.

    The value is first held as `jit` would hold the Python number, then converted, as `jnp.full`
    converts it (both round to nearest even). A value NumPy would convert otherwise than XLA (see
    `_same_on_host`) is filled by the cached fill program instead.
    """
    held = np.asarray(value, _jit_dtype(value))
    if not _same_on_host(held, dtype):
        filled = full(value, shape, dtype)
        return filled if where is None else jax.device_put(filled, where)
    return jax.device_put(np.full(shape, held.astype(dtype), dtype), where)


def _jit_dtype(value: bool | int | float | complex) -> np.dtype:
    """The dtype `jit` gives a Python number passed to it."""
    return np.dtype(jax.dtypes.canonicalize_dtype(np.dtype(type(value))))


def _same_on_host(value: np.ndarray, dtype: np.dtype) -> bool:
    """Whether NumPy converts `value` to `dtype` as XLA does: exactly, with no subnormal on either side (XLA
    flushes them to zero) and no bool from another type (a flushed float is False there). A value that has to be
    rounded is left to XLA, whose rounding of an int into a narrow float can differ from NumPy's."""
    if (value.dtype == np.bool_) != (dtype == np.bool_):
        return False
    if np.iscomplexobj(value) and not np.issubdtype(dtype, np.complexfloating):
        return False
    with np.errstate(all="ignore"):
        cast = value.astype(dtype)
        if not bool(cast.astype(value.dtype) == value):
            return False
    for array in (value, cast):
        if np.issubdtype(array.dtype, np.inexact):
            magnitude = np.abs(array)
            if 0 < magnitude < np.finfo(array.dtype).smallest_normal:
                return False
    return True
