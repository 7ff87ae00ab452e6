"""The environment of a process the suite starts, with its `XLA_FLAGS` changed by name."""

import os


def _name(flag: str) -> str:
    return flag.split("=")[0].lstrip("-")


def environ(*flags: str, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment with `flags` in `XLA_FLAGS`, each replacing any of its name, and `drop` removed.

    Example: `environ("--xla_force_host_platform_device_count=8", drop=("xla_backend_optimization_level",))`.
    """
    names = {_name(flag) for flag in flags} | set(drop)
    kept = [flag for flag in os.environ.get("XLA_FLAGS", "").split() if _name(flag) not in names]
    return dict(os.environ, XLA_FLAGS=" ".join([*kept, *flags]))
