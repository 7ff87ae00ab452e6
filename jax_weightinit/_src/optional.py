"""Optional rule patterns: a part that some models lack (biases, a tied head) is no mistake when absent."""

import dataclasses
from collections.abc import Callable
from typing import Any

from . import validation

Pattern = str | Callable[[str, Any], bool]


@dataclasses.dataclass(frozen=True)
class OptionalPattern:
    """A rule pattern that matches as `pattern` does; the rule is never reported for matching no leaf."""

    pattern: Pattern

    def __call__(self, path: str, leaf: Any) -> bool:
        return validation.matches(self.pattern, path, leaf)

    def __repr__(self) -> str:
        return f"optional({self.pattern!r})"


def optional(pattern: Pattern) -> OptionalPattern:
    """Marks a rule's pattern as naming a part some models lack, so that the rule never warns when it matches nothing.

    A rule that matches no leaf is reported (`on_unused_rule`), since that is how a typo shows; a
    recipe's bias rule on a model without biases is no typo. A rule shadowed by an earlier one is
    still reported: its leaves exist and went elsewhere.

    Args:
      pattern: a regex for the leaf's path, or a predicate `(path, leaf) -> bool`.

    Returns:
      A predicate that matches as `pattern` does.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import jax_weightinit as wi
      >>> rules = [(wi.optional("bias$"), wi.zeros), ("kernel$", wi.he_normal())]
      >>> params = wi.init_tree(jax.random.key(0), {"kernel": jnp.zeros((4, 4))}, rules, on_unused_rule="raise")
      >>> params["kernel"].shape
      (4, 4)
    """
    validation.pattern("`pattern`", pattern)
    return pattern if isinstance(pattern, OptionalPattern) else OptionalPattern(pattern)
