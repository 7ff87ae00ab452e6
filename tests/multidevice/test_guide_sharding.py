"""The sharding guide's example runs as written on 8 devices and lands where it says."""

import pathlib
import re

import jax
from jax.sharding import PartitionSpec as P

GUIDE = pathlib.Path(__file__).parent.parent.parent / "docs" / "guides" / "sharding.md"


def test_sharding_guide_example_runs():
    text = GUIDE.read_text()
    block = re.search(r"# Sharded init.*?```python\n(.*?)```", text, re.S).group(1)
    scope: dict = {}
    exec(compile(block, "sharding.md", "exec"), scope)
    assert scope["w"].sharding.spec == P("data", "model")
    assert scope["params"]["kernel"].sharding.spec == P()
    assert len(scope["w"].addressable_shards) == jax.device_count() == 8
