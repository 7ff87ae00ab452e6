"""The plan of a whole-model init: for each leaf, which rule, which initializer, fans, law and sharding.

`plan` initializes nothing; `init_tree` draws exactly the plan's groups, so what a plan
states is by construction what is drawn.
"""

import dataclasses
import difflib
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

import jax
import numpy as np
from jax.sharding import PartitionSpec

from . import calls, foreign, placement, stacks, validation
from .constant import Constant
from .core import RandomInitializer
from .fans import compute_fans
from .keys import path_string
from .laws import Distribution
from .layers import Adapt, LayerFans, takes_layer_fans
from .optional import OptionalPattern
from .scaling import Scaled
from .typing import Array
from .variance_scaling import FanScaled

#: The pattern of a rule, a regex `re.search`ed in a leaf's path or a predicate `(path, leaf) -> bool`.
Pattern: TypeAlias = str | Callable[[str, Any], bool]
#: Ordered `(pattern, initializer)` pairs, for annotating a rule list: `rules: wi.Rules = [...]`; a list, so
#: that `rules + presets.gpt2_rules(...)` type-checks as well as runs.
Rules: TypeAlias = list[tuple[Pattern, Callable[..., Any]]]
# What the functions take: mypy infers a list that mixes regexes and predicates as tuple[object, ...],
# so the pattern's type is checked when the rules are read, with one clear error, rather than by mypy.
RulesArg: TypeAlias = Sequence[tuple[object, Callable[..., Any]]]
#: Ordered `(pattern, axes)` pairs: a leaf whose path matches a pattern (first match wins) has `axes` leading
#: stack axes; 0 reads it as one layer whatever its framework records.
StackedArg: TypeAlias = Sequence[tuple[object, int | tuple[int, ...]]]
_MAX_LISTED = 20


@dataclasses.dataclass(frozen=True)
class PlanRow:
    """One leaf of a plan.

    Attributes:
      path: the leaf's path, as `path_string` writes it.
      pattern: the first rule's pattern that matched, or None (the leaf is kept as it is).
      init: that rule's initializer, or None.
      shape: the leaf's shape.
      dtype: the leaf's dtype.
      sharding: where the leaf will be placed, or None for the default device.
      fans: (fan_in, fan_out) for fan-scaled initializers, else None.
      law: the `Distribution` of each element for the library's random initializers, else None.
      stack: the sizes of the leaf's stack axes (layers stacked by `nn.scan`, `nnx.vmap`,
        `hk.layer_stack`, `eqx.filter_vmap`), each layer drawn by one layer's law; () for one layer.
    """

    path: str
    pattern: Pattern | None
    init: Callable | None
    shape: tuple[int, ...]
    dtype: np.dtype
    sharding: jax.sharding.Sharding | None
    fans: tuple[int, int] | None
    law: Distribution | None
    stack: tuple[int, ...] = ()


class Plan(tuple):
    """The rows of a plan, one per leaf in `target`'s order; `str(plan)` is a table to read.

    The table's columns: path, rule, initializer, shape, dtype, fan_in/out (and the layer
    they were read from), std, bounds, sharding; a column empty for every leaf is left out.
    Its footer names each rule that matched no leaf, and for a rule shadowed by an earlier
    one, the rule that took its leaves (also in `unused_rules`).
    """

    #: One sentence per rule that matched no leaf.
    unused_rules: tuple[str, ...] = ()
    #: Sentences on leaves read as one layer that may be stacks, and how to declare them.
    stack_hints: tuple[str, ...] = ()

    def __str__(self) -> str:
        header = ("path", "rule", "initializer", "stack", "shape", "dtype", "fan_in/out", "std", "bounds", "sharding")
        rows = [_cells(row) for row in self]
        shown = [i for i in range(len(header)) if i < 3 or any(line[i] for line in rows)]  # drop empty columns
        cells = [[line[i] for i in shown] for line in [header, *rows]]
        widths = [max(len(line[i]) for line in cells) for i in range(len(shown))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells]
        return "\n".join(lines + [f"note: {note}" for note in self.unused_rules + self.stack_hints])


def _pattern_text(pattern: Pattern) -> str:
    """A pattern as the user wrote it: a regex in quotes, with no doubled backslashes; a predicate by name."""
    if isinstance(pattern, str):
        return f"'{pattern}'" if "'" not in pattern else repr(pattern)
    if isinstance(pattern, OptionalPattern):
        return f"optional({_pattern_text(pattern.pattern)})"
    name = getattr(pattern, "__qualname__", "")
    return "<predicate>" if not name or "<lambda>" in name else f"<predicate {name}>"


def _number(value: object) -> str:
    """A law's number as the plan prints it; a traced one (a hyperparameter under `jit`, `vmap`, `grad`) as such."""
    return "traced" if isinstance(value, jax.core.Tracer) else f"{value:.4g}"


def _std(law: Distribution) -> str:
    try:
        return _number(law.std)
    except TypeError:  # a truncated law with traced bounds: its std is known only when it runs
        return "traced"


def _cells(row: PlanRow) -> tuple[str, ...]:
    law = row.law
    bounds = "" if law is None or law.low is None else f"[{_number(law.low)}, {_number(law.high)}]"
    sharding = row.sharding.spec if isinstance(row.sharding, jax.sharding.NamedSharding) else row.sharding
    return (
        row.path,
        "—" if row.pattern is None else _pattern_text(row.pattern),
        "keep" if row.init is None else calls.label(row.init),
        " × ".join(map(str, row.stack)),
        str(row.shape),
        row.dtype.name,
        _fans_cell(row),
        "" if law is None else _std(law),
        bounds,
        "" if sharding is None else str(sharding),
    )


def _fans_cell(row: PlanRow) -> str:
    if row.fans is None:
        return ""
    base = row.init.init if isinstance(row.init, Scaled) else row.init
    layer = f" ({base.layer})" if isinstance(base, LayerFans) else ""
    return f"{row.fans[0]}/{row.fans[1]}{layer}"


def plan(
    target: Any,
    rules: RulesArg,
    *,
    out_shardings: Any = None,
    stacked: StackedArg = (),
    stack_names: Sequence[str] = stacks.STACK_NAMES,
) -> Plan:
    """States, for every leaf of `target`, what `init_tree(key, target, rules, ...)` will do with it.

    Initializes nothing. Each row has the leaf's `path`, the matching rule's `pattern`,
    its `init`, the leaf's `shape`, `dtype` and `sharding`, the `fans` of fan-scaled
    initializers and the exact `law` of the library's random initializers; `str(plan)`
    is an aligned table. `init_tree` draws exactly what the plan states.

    Args:
      target: a pytree of arrays and/or `jax.ShapeDtypeStruct`s, as for `init_tree`.
      rules: ordered `(pattern, initializer)` pairs; the first match wins.
      out_shardings: as for `init_tree`.
      stacked: as for `init_tree`.
      stack_names: as for `init_tree`.

    Returns:
      A `Plan`: a tuple of `PlanRow`s in the order of `target`'s leaves.

    Raises:
      ValueError, TypeError: as `init_tree` does, before anything is drawn.

    Example:
      >>> import jax, jax.numpy as jnp, jax_weightinit as wi
      >>> params = {"dense": {"kernel": jax.ShapeDtypeStruct((256, 512), jnp.float32),
      ...                     "bias": jax.ShapeDtypeStruct((512,), jnp.float32)}}
      >>> rows = wi.plan(params, [("kernel$", wi.he_normal()), ("bias$", wi.zeros)])
      >>> [(r.path, r.fans, None if r.law is None else round(r.law.std, 4)) for r in rows]
      [('dense/bias', None, None), ('dense/kernel', (256, 512), 0.0884)]
    """
    return plan_rows(target, rules, out_shardings, Layout(stacked, stack_names))


@dataclasses.dataclass(frozen=True)
class Layout:
    """What is known of the target's layers: the user's `stacked` and `stack_names`, and what a framework adapter
    read off its modules (`adapt`; each known parameter's shape in one layer; its partitioning names)."""

    stacked: StackedArg = ()
    stack_names: Sequence[str] = stacks.STACK_NAMES
    adapt: Adapt | None = None
    layer_shapes: Mapping[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)
    axis_names: Mapping[str, tuple] = dataclasses.field(default_factory=dict)


def build(
    target: Any,
    rules: RulesArg,
    out_shardings: Any,
    key: Array,
    on_unused_rule: Literal["ignore", "warn", "raise"],
    layout: Layout = Layout(),
) -> tuple[Plan, list[Any], Any]:
    """(the plan, the flattened leaves, the treedef): the one place where rules are matched and leaves checked.

    `layout.adapt(path, init)`, when given, replaces each matched initializer (with the fans
    of the layer that owns the leaf, for `wi.flax` and `wi.equinox`); then a stacked leaf's
    initializer is made to draw one layer's law per layer (`stacks.per_layer`).
    """
    if on_unused_rule not in ("ignore", "warn", "raise"):
        raise ValueError(f"`on_unused_rule` must be one of 'ignore', 'warn', 'raise'; got {on_unused_rule!r}.")
    flat, treedef = jax.tree_util.tree_flatten_with_path(target)
    names = [path_string(p) for p, _ in flat]
    matcher = _Matcher.of(target, rules, layout, flat, names, key)
    rows: list[PlanRow] = []
    taken_by: list[int | None] = []  # for each leaf, the rule that took it
    unmatched: list[str] = []
    seen: set[str] = set()
    for (_, leaf), name, sharding in zip(flat, names, _given_shardings(out_shardings, flat, names), strict=True):
        if name in seen:
            raise ValueError(f"two leaves share the path {name!r}; rename one so their keys differ.")
        seen.add(name)
        match = next((j for j, (pattern, _) in enumerate(matcher.rules) if _matches(pattern, name, leaf)), None)
        taken_by.append(match)
        if match is None:
            if isinstance(leaf, jax.ShapeDtypeStruct):
                unmatched.append(f"{name!r} {leaf.shape}")
            rows.append(_kept(name, leaf))
        else:
            rows.append(matcher.row(name, leaf, sharding, match))
    if unmatched:
        raise ValueError(f"abstract leaves match no rule: {_listed(unmatched)}; add rules for them.")
    result = Plan(rows)
    result.unused_rules = tuple(_unused_rules(matcher.rules, flat, names, taken_by))
    _report_unused(result.unused_rules, on_unused_rule)
    if matcher.hints:
        result.stack_hints = (_stack_hint(matcher.hints, {row.path: row.shape for row in rows}),)
    return result, [leaf for _, leaf in flat], treedef


def plan_rows(target: Any, rules: RulesArg, out_shardings: Any, layout: Layout) -> Plan:
    """The plan alone, unused rules left unreported: what `plan`, `wi.flax.plan` and `wi.equinox.plan` return."""
    return build(target, rules, out_shardings, jax.random.key(0), "ignore", layout)[0]


@dataclasses.dataclass
class _Matcher:
    """What `build` reads each matched leaf with: the checked rules, the stacks declared and found, the layout's
    adapter; it collects the leaves that may be undeclared stacks (`hints`)."""

    rules: list[tuple[Pattern, Callable]]
    layout: Layout
    declared: Any
    stack_names: tuple[str, ...]
    axis_names: dict[str, tuple]
    lifted: Any
    key: Array
    hints: list[str] = dataclasses.field(default_factory=list)
    checked_leaves: set[tuple] = dataclasses.field(default_factory=set)

    @classmethod
    def of(cls, target: Any, rules: RulesArg, layout: Layout, flat: list, names: list[str], key: Array) -> "_Matcher":
        shapes = [tuple(getattr(leaf, "shape", ())) for _, leaf in flat]
        return cls(
            _check_rules(rules),
            layout,
            stacks.check(layout.stacked),
            stacks.check_names(layout.stack_names),
            {**stacks.boxed_names(target), **layout.axis_names},
            stacks.in_lifted_scopes(names, shapes),
            key,
        )

    def row(self, name: str, leaf: Any, sharding: Any, match: int) -> PlanRow:
        """The row of the leaf at `name`, taken by rule `match`: its initializer adapted, its stack found, checked
        once per case."""
        if not _is_array(leaf):
            raise TypeError(f"the leaf {name!r} matched rule {match} but is a {type(leaf).__name__}, not an array.")
        pattern, init = self.rules[match]
        init = init if self.layout.adapt is None else self.layout.adapt(name, init)
        shape, dtype = tuple(leaf.shape), np.dtype(leaf.dtype)
        sharding = placement.resolve(
            sharding if sharding is not None else _own_sharding(leaf), shape, f"`out_shardings` for {name!r}"
        )
        try:
            axes = stacks.find(
                name, leaf, self.declared, self.stack_names, self.layout.layer_shapes, self.axis_names, self.lifted
            )
        except ValueError as e:
            raise ValueError(f"`stacked` gives {name!r} {shape} {e}.") from None
        if axes is None and name not in self.layout.layer_shapes and _may_be_stacked(name, init, shape):
            self.hints.append(name)
        try:
            drawn = stacks.per_layer(init, shape, dtype, axes or ())
            leaf_case = (_hashable(drawn), shape, dtype, sharding)
            if leaf_case not in self.checked_leaves:
                _check_leaf(drawn, shape, dtype, self.key)
                self.checked_leaves.add(leaf_case)
        except (TypeError, ValueError) as e:
            raise type(e)(_cannot(name, shape, dtype, axes or (), (match, pattern, init), e)) from None
        fans, law = _fans_and_law(name, drawn, shape, dtype)
        return PlanRow(name, pattern, drawn, shape, dtype, sharding, fans, law, stacks.split(shape, axes or ())[0])


def _listed(items: Sequence[str]) -> str:
    """The first `_MAX_LISTED` of `items`, comma-separated, and how many more there are."""
    more = f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return ", ".join(items[:_MAX_LISTED]) + more


def _report_unused(notes: Sequence[str], on_unused_rule: str) -> None:
    if not notes or on_unused_rule == "ignore":
        return
    message = " ".join(notes)
    if on_unused_rule == "raise":
        raise ValueError(message)
    warnings.warn(
        f"{message} Pass on_unused_rule='raise' to make this an error, or wrap the pattern of a rule for a part "
        "some models lack in wi.optional.",
        stacklevel=5,
    )


def _stack_hint(hints: list[str], shapes: dict[str, tuple[int, ...]]) -> str:
    """The sentence on leaves read as one layer that may be undeclared stacks, and how to declare them."""
    scope = _scope(hints)
    return (
        f"{_listed([f'{name!r} {shapes[name]}' for name in hints])} read as one layer each, leading axes as receptive "
        f"field; if the leading axis stacks layers (nn.scan, hk.layer_stack, vmap), pass `stacked=[({scope!r}, 1)]` "
        f"to draw each layer's law, or `stacked=[({scope!r}, 0)]` to keep one layer and silence this (a layer whose "
        "kernel has more than two axes, such as DenseGeneral's, takes its own fans from `wi.flax.reinit` or an "
        "explicit `in_axis`)."
    )


def _hashable(init: Callable) -> object:
    """`init`, or its identity where a traced hyperparameter makes it unhashable."""
    try:
        hash(init)
    except TypeError:
        return id(init)
    return init


def _scope(names: list[str]) -> str:
    """A pattern for the leaves at `names` and their neighbours: their common parent path, else their first parts."""
    common: list[str] = []
    for level in zip(*(name.split("/")[:-1] for name in names), strict=False):
        if len(set(level)) > 1:
            break
        common.append(level[0])
    if common:
        return "^" + re.escape("/".join(common) + "/")
    firsts = sorted({re.escape(name.split("/")[0]) for name in names})
    return "^(" + "|".join(firsts) + ")(/|$)"


# A path part that names a convolution (Flax `Conv_0`, Haiku `conv2_d`, Equinox and Keras `conv`), whose leading
# axes are its receptive field.
_CONVOLUTION = re.compile(r"conv", re.IGNORECASE)


def _may_be_stacked(name: str, init: Callable, shape: tuple[int, ...]) -> bool:
    """Whether a leaf read as one layer could be a stack the library was not told of: 3 or more dims, not in a
    convolution, drawn by a fan-scaled law at its default axes (which counts the leading ones as a receptive
    field) or by a foreign initializer (called at the whole stack's shape)."""
    if len(shape) < 3 or _CONVOLUTION.search(name):
        return False
    base = _unscaled(init)
    if isinstance(base, FanScaled):
        return takes_layer_fans(base)
    return not isinstance(base, RandomInitializer | Constant | LayerFans | stacks.PerLayer)


def _unused_rules(
    checked: list[tuple[Pattern, Callable]], flat: list, names: list[str], taken_by: list[int | None]
) -> list[str]:
    """A sentence for each rule that took no leaf: shadowed (naming the earlier rule and a leaf it took), or
    matching nothing at all."""
    taken = set(taken_by)
    notes = []
    for j, (pattern, _) in enumerate(checked):
        if j in taken:
            continue
        shadowed = next(
            (
                (name, k)
                for (_, leaf), name, k in zip(flat, names, taken_by, strict=True)
                if k is not None and _matches(pattern, name, leaf)
            ),
            None,
        )
        rule = f"rules[{j}] {_pattern_text(pattern)}"
        if shadowed is None and isinstance(pattern, OptionalPattern):
            continue  # a part this model lacks
        if shadowed is None:
            closest = _closest(pattern, names)
            notes.append(f"{rule} matched no leaf" + (f" (the closest path is {closest!r})." if closest else "."))
        else:
            name, k = shadowed
            earlier = f"rules[{k}] {_pattern_text(checked[k][0])}"
            notes.append(f"{rule} matched no leaf it could take: {earlier} comes first and took {name!r}.")
    return notes


def _closest(pattern: Pattern, names: list[str]) -> str | None:
    """The path most like a regex's literal text (a misspelt rule's intended leaf), compared part by part, if any
    is close; None for a predicate."""
    if not isinstance(pattern, str):
        return None
    literal = re.sub(r"[\\^$.*+?()\[\]{}|]", "", pattern)
    suffixes: dict[str, str] = {}  # each path's endings, the first path that has it (stacked layers repeat them)
    for name in names:
        parts = name.split("/")
        for start in range(len(parts)):
            suffixes.setdefault("/".join(parts[start:]), name)
    close = difflib.get_close_matches(literal, suffixes, n=1, cutoff=0.75)
    return suffixes[close[0]] if close else None


def _kept(name: str, leaf: Any) -> PlanRow:
    if _is_array(leaf):
        return PlanRow(name, None, None, tuple(leaf.shape), np.dtype(leaf.dtype), None, None, None)
    kind = type(leaf) if isinstance(leaf, bool | int | float) else object  # np.dtype(bool) is bool, not int
    return PlanRow(name, None, None, (), np.dtype(kind), None, None, None)


def _fans_and_law(name: str, init: Callable, shape: tuple[int, ...], dtype: np.dtype):
    """The fans and law the plan states; none for an empty leaf, which is drawn empty as a direct call is."""
    if math.prod(shape) == 0:
        return None, None
    fans = None
    if isinstance(init, stacks.PerLayer):  # a foreign initializer, called at one layer's shape
        shape = stacks.split(shape, init.axes)[1]
        init = init.init
    if not isinstance(init, RandomInitializer):  # a jax.nn initializer states its law through its twin here
        twin = foreign.equivalent(init)
        if twin is None:
            return None, None
        try:
            return _fans_and_law(name, twin, shape, dtype)
        except (TypeError, ValueError):  # the plan states what it can; the call itself was checked
            return None, None
    base = _unscaled(init)
    try:
        if isinstance(base, LayerFans):
            fans = base.fans
        elif isinstance(base, FanScaled) and len(shape) >= 1:
            fans = compute_fans(shape, base.in_axis, base.out_axis, base.batch_axis)
        law = init.distribution(shape) if isinstance(init, RandomInitializer) else None
    except (TypeError, ValueError) as e:
        raise type(e)(f"cannot initialize {name!r} {shape} {dtype.name}: {e}") from None
    return fans, law


def _matches(pattern: Pattern, path: str, leaf: Any) -> bool:
    return validation.matches(pattern, path, leaf)


def _check_rules(rules: RulesArg) -> list[tuple[Pattern, Callable]]:
    if isinstance(rules, dict | str) or not isinstance(rules, Sequence):
        raise TypeError(f"`rules` must be a sequence of (pattern, initializer) pairs; got {type(rules).__name__}.")
    checked: list[tuple[Any, Callable]] = []  # each pattern a str or a predicate, checked below
    for i, rule in enumerate(rules):
        if not (isinstance(rule, tuple | list) and len(rule) == 2):
            raise TypeError(f"`rules[{i}]` must be a (pattern, initializer) pair; got {rule!r}.")
        pattern, init = rule
        validation.pattern(f"`rules[{i}]`", pattern)
        if not callable(init):
            raise TypeError(f"`rules[{i}]` initializer must be callable as init(key, shape, dtype); got {init!r}.")
        if validation.is_factory(init):
            raise TypeError(
                f"`rules[{i}]` initializer is the factory {init.__name__}; pass {init.__name__}() (called)."
            )
        checked.append((pattern, init))
    return checked


def _is_array(leaf: Any) -> bool:
    """An array, a tracer or a ShapeDtypeStruct (not a class such as np.float32, whose `dtype` is a descriptor)."""
    return validation.attribute(leaf, "shape") is not None and validation.attribute(leaf, "dtype") is not None


def _is_sharding(value: Any) -> bool:
    return value is None or isinstance(value, jax.sharding.Sharding | PartitionSpec)


def _given_shardings(out_shardings: Any, flat: list, names: list[str]) -> list[Any]:
    """The sharding `out_shardings` gives each leaf (None where it gives none), or a ValueError naming the path."""
    if _is_sharding(out_shardings):
        return [out_shardings] * len(flat)
    if callable(out_shardings):
        given = [out_shardings(name, leaf) for name, (_, leaf) in zip(names, flat, strict=True)]
        for name, value in zip(names, given, strict=True):
            if not _is_sharding(value):
                raise TypeError(
                    f"`out_shardings` returned {value!r} for {name!r}; it must return a Sharding, a PartitionSpec "
                    "or None."
                )
        return given
    # A prefix of `target`, as `jit` reads `out_shardings`: an entry covers every leaf below it.
    entries = jax.tree_util.tree_flatten_with_path(out_shardings, is_leaf=_is_sharding)[0]
    by_path = {_parts(path): value for path, value in entries}
    for path, value in entries:
        if not _is_sharding(value):
            raise TypeError(
                f"`out_shardings` at {path_string(path)!r} must be a Sharding, a PartitionSpec or None; got {value!r}."
            )
    given, covered = [], set()
    for (path, _), name in zip(flat, names, strict=True):
        parts = _parts(path)
        prefix = next((parts[:n] for n in range(len(parts) + 1) if parts[:n] in by_path), None)
        if prefix is None:
            raise ValueError(f"`out_shardings` has no entry for the leaf {name!r}; give a prefix of `target`.")
        covered.add(prefix)
        given.append(by_path[prefix])
    extra = [p for p in by_path if p not in covered]
    if extra:
        raise ValueError(f"`out_shardings` has an entry at {'/'.join(extra[0])!r} that matches no leaf of `target`.")
    return given


def _parts(path: Sequence[Any]) -> tuple[str, ...]:
    return tuple(path_string([entry]) for entry in path)


def _own_sharding(leaf: Any) -> jax.sharding.Sharding | None:
    """The NamedSharding a leaf carries: a ShapeDtypeStruct's, a placed array's, or an Explicit-mode tracer's type."""
    if isinstance(leaf, jax.core.Tracer):
        sharding = getattr(jax.typeof(leaf), "sharding", None)
        shards = isinstance(sharding, jax.sharding.NamedSharding) and any(e is not None for e in sharding.spec)
        return sharding if shards else None
    sharding = validation.attribute(leaf, "sharding")
    return sharding if isinstance(sharding, jax.sharding.NamedSharding) else None


def _check_leaf(init: Callable, shape: tuple[int, ...], dtype: np.dtype, key: Array) -> None:
    """Checks that `init` can produce a leaf of `shape` and `dtype`, so that one it cannot have names the leaf.

    The library's own initializers check on the host; any other is traced once.
    """
    if isinstance(init, RandomInitializer | Constant):
        out: Any = jax.ShapeDtypeStruct(*init.checked(shape, dtype)[:2])
    else:
        out = jax.eval_shape(lambda k: init(k, shape, dtype), key)
    if out.shape != shape or out.dtype != dtype:
        raise ValueError(f"the initializer returned {out.shape} {out.dtype}, not {shape} {dtype}")


def _cannot(name: str, shape: tuple, dtype: np.dtype, axes: stacks.Axes, rule: tuple, error: Exception) -> str:
    """One sentence for a leaf its rule's initializer cannot produce: the leaf, its stack, the rule, what to do."""
    j, pattern, init = rule
    sizes, layer = stacks.split(shape, axes)
    stack = f" (one layer of its {sizes} stack is {layer})" if axes else ""
    text = str(error).rstrip(".")
    if "multiple values for argument 'dtype'" in text:
        text += "; initializers are called as init(key, shape, dtype): give the dtype to the factory instead"
    elif len(layer) == 1 and _fan_scaled(init):
        text = (
            f"its fans need 2 dims, and a one-axis leaf is a bias or a norm's scale, not a layer's kernel: put a rule "
            f"for it before rules[{j}] {_pattern_text(pattern)}, such as ('bias$', wi.zeros)"
        )
    return f"cannot initialize {name!r} {shape} {dtype.name}{stack} with rules[{j}]'s {calls.label(init)}: {text}."


def _unscaled(init: Callable) -> Callable:
    """The initializer a `scaled(...)` one multiplies, or `init` itself."""
    return init.init if isinstance(init, Scaled) else init


def _fan_scaled(init: Callable) -> bool:
    base = _unscaled(init)
    return isinstance(base, FanScaled) or isinstance(foreign.equivalent(base), FanScaled)


