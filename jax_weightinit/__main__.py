"""`python -m jax_weightinit`: same as the `jax-weightinit` command."""

import sys

from ._src.cli import main

sys.exit(main())
