"""The sizes that trade compile time against memory in large and whole-model draws, in one place.

Every size is in bytes of random bits, 4 per element whatever the output dtype, per device.
None of them changes a value: a leaf is its direct call bit for bit however it is blocked,
chunked or laid out; they choose only how many programs are compiled and how much memory a
draw holds at once. `docs/design.md` gives the measurements behind each number.

`fixed_from_leaves` and `model_bytes` are read on every call; the other sizes when a sampler
traces, so they are baked into compiled programs: a test that replaces `TUNABLES` with
`dataclasses.replace(TUNABLES, ...)` clears JAX's caches around it (`jax.clear_caches()`).
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Tunables:
    """How large and whole-model draws are cut into blocks, chunks, segments and programs.

    Attributes:
      block_bytes: on CPU, an array (a shard, per device) with more bits than this is drawn
        in row blocks of about this size, which stay in cache; a group's chunk of stacked
        leaves, and a `vmap` step over keys, hold about this much, so that a leaf too large
        for a chunk is one its sampler blocks.
      accelerator_whole_bytes: on GPU and TPU, a shard is drawn whole up to this size.
      accelerator_block_bytes: on GPU and TPU, the block of a larger shard.
      segment_bytes: an eager segment's buffer (one program of fixed shape serves every
        model), and so the largest leaf drawn in a segment.
      model_bytes: a model with more bits than this in segment-drawn leaves is drawn by
        group instead: its compile is amortized, and a program keeps every segment's buffer
        alive to its end. Under it, a traced or small model's leaves of one kind are one
        segment.
      segment_capacity: the most leaves one segment holds (the length of an eager segment's
        tables).
      fixed_from_leaves: an eager call with more segment and constant leaves than this uses
        the fixed-shape program (one per sampling case and dtype, shared by every model); a
        smaller one compiles one program for its own layout, whose compile grows with each leaf
        but whose warm call draws only the model, not a whole buffer.
    """

    block_bytes: int = 4 * 2**20
    accelerator_whole_bytes: int = 2**30
    accelerator_block_bytes: int = 256 * 2**20
    segment_bytes: int = 32 * 2**20
    model_bytes: int = 64 * 2**20
    segment_capacity: int = 1024
    fixed_from_leaves: int = 128


#: The sizes in force; read when a sampler traces.
TUNABLES = Tunables()
