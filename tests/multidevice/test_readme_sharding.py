"""The README's sharding example runs as written on 8 devices and lands where it says."""

import pathlib
import re

import jax
from jax.sharding import PartitionSpec as P

README = pathlib.Path(__file__).parent.parent.parent / "README.md"


def test_readme_sharding_example_runs():
    text = README.read_text()
    block = re.search(r"## Sharded init.*?```python\n(.*?)```", text, re.S).group(1)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    assert scope["w"].sharding.spec == P("data", "model")
    assert scope["params"]["kernel"].sharding.spec == P()
    assert len(scope["w"].addressable_shards) == jax.device_count() == 8
