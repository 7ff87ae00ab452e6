"""One process of a multi-host run, as tests/test_multihost.py launches it: `python multihost_worker.py PORT ID`.

Each of 2 processes holds 4 CPU devices of one global 2×4 mesh, as each host of a cluster
holds its accelerators. On Auto and Explicit meshes, single initializers and `init_tree`
(eager and under `jit`) must give every addressable shard exactly the values of the
unsharded draw of the same key, drawn on this process alone. Prints one `ok` line per
check and exits 0, or raises.
"""

import sys

PROCESSES, LOCAL_DEVICES = 2, 4


def main(port: int, process_id: int) -> None:
    import jax

    jax.config.update("jax_num_cpu_devices", LOCAL_DEVICES)
    jax.distributed.initialize(f"localhost:{port}", num_processes=PROCESSES, process_id=process_id)

    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import AxisType, NamedSharding
    from jax.sharding import PartitionSpec as P

    import jax_weightinit as wi

    assert jax.process_count() == PROCESSES and jax.device_count() == PROCESSES * LOCAL_DEVICES, jax.devices()
    key = jax.random.key(20261201)  # the same seed on every host

    def check(what, out, plain):
        shards = out.addressable_shards
        assert len(shards) == LOCAL_DEVICES and not out.is_fully_addressable, (what, out.sharding)
        for shard in shards:
            local = np.asarray(shard.data)
            assert local.tobytes() == np.asarray(plain[shard.index]).tobytes(), (what, shard.index)
        print(f"ok {what}", flush=True)

    for kind in (AxisType.Auto, AxisType.Explicit):
        mesh = jax.make_mesh((2, 4), ("data", "model"), axis_types=(kind, kind))
        sharding = NamedSharding(mesh, P("data", "model"))
        for name, init in (
            ("he_normal", wi.he_normal()),
            ("uniform", wi.uniform(0.5)),
            ("orthogonal", wi.orthogonal()),
        ):
            plain = init(key, (256, 512))
            check(f"{kind.name} {name} eager", init(key, (256, 512), out_sharding=sharding), plain)
            with jax.set_mesh(mesh):
                jitted = jax.jit(lambda k, init=init, s=sharding: init(k, (256, 512), out_sharding=s))(key)
            check(f"{kind.name} {name} under jit", jitted, plain)

        def leaf(shape, spec, dtype=jnp.float32, mesh=mesh):
            return jax.ShapeDtypeStruct(shape, dtype, sharding=NamedSharding(mesh, spec))

        tree = {
            "layers": [{"kernel": leaf((256, 512), P("data", "model")), "bias": leaf((512,), P("model"))}] * 3,
            "embed": leaf((512, 128), P(None, "model"), jnp.bfloat16),
            "big": leaf((4096, 4096), P("data", "model")),  # drawn in blocks: 8 MiB shards
        }
        rules = [("kernel$|big$", wi.he_normal()), ("bias$", wi.zeros), ("embed$", wi.normal(0.02))]
        plain_leaves = jax.tree.leaves(wi.init_tree(key, jax.tree.map(lambda s: s.update(sharding=None), tree), rules))
        eager = wi.init_tree(key, tree, rules)
        with jax.set_mesh(mesh):
            jitted = jax.jit(lambda k, tree=tree, rules=rules: wi.init_tree(k, tree, rules))(key)
        for how, out in (("eager", eager), ("under jit", jitted)):
            for i, (got, plain) in enumerate(zip(jax.tree.leaves(out), plain_leaves, strict=True)):
                check(f"{kind.name} init_tree {how} leaf {i}", got, plain)

        committed = jax.device_put(key, jax.local_devices()[0])
        try:
            wi.he_normal()(committed, (256, 512), out_sharding=sharding)
        except ValueError as error:
            assert "`key` is committed to device" in str(error), error
            print(f"ok {kind.name} a key on one local device is refused clearly", flush=True)
        else:
            raise AssertionError("a key committed to one local device was accepted")
    jax.distributed.shutdown()
    print("done", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
