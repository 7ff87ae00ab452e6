"""The README's commands are the ones CI runs, and every Python example in the README and the guides runs as written."""

import pathlib
import re

import jax

ROOT = pathlib.Path(__file__).parent.parent
GUIDES = ROOT / "docs" / "guides"
# Pages whose code blocks run in tests of their own: the whole-model guide and the sweeps guide below (what they
# print checked), the sharding guide on 8 devices (tests/multidevice/test_guide_sharding.py).
OWN_TESTS = ("whole-models.md", "sharding.md", "sweeps.md")


def python_blocks(path: pathlib.Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    assert len(commands) == 3, commands  # the main job, the tests, the documentation
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert commands[1] in ci


def test_whole_model_examples_run_and_print_their_plan(capsys):
    guide = (GUIDES / "whole-models.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", guide, re.S)
    assert len(blocks) == 4
    scopes = []
    for block in blocks:
        scopes.append({})
        exec(compile(block, "whole-models.md", "exec"), scopes[-1])
    printed = capsys.readouterr().out.splitlines()
    shown = re.findall(r"\nprints\n\n```\n(.*?)```", guide, re.S)
    assert len(shown) == 2
    assert printed == "".join(shown).splitlines()
    assert scopes[0]["model"].attn.query.kernel[...].shape == (256, 4, 64)
    assert scopes[2]["params"]["layers"][1]["mlp"]["kernel"].shape == (256, 1024)
    stacked = scopes[3]["params"]["params"]["ScanBlock_0"]["Dense_1"]["kernel"]
    assert abs(float(stacked[5].std()) / (2 / 256) ** 0.5 - 1) < 0.02  # one layer's law in the last layer


def test_the_sweeps_guide_runs_in_one_session_and_its_multipliers_learn(capsys):
    blocks = python_blocks(GUIDES / "sweeps.md")
    assert len(blocks) == 2
    scope: dict = {}
    with jax.numpy_rank_promotion("allow"):  # the guide's MLP adds biases as users write it, by broadcasting
        for block in blocks:  # the second block goes on from the first, as a reader's session does
            exec(compile(block, "sweeps.md", "exec"), scope)
    assert capsys.readouterr().out.splitlines() == ["(16, 32, 64)", "True"]
    assert scope["multipliers"].shape == (4,) and bool((scope["multipliers"] != 1).any())


def test_every_other_python_block_runs_as_written(capsys):
    pages = [ROOT / "README.md", ROOT / "docs" / "index.md"]
    pages += [p for p in sorted(GUIDES.glob("*.md")) if p.name not in OWN_TESTS]
    blocks = [(page.name, block) for page in pages for block in python_blocks(page)]
    assert len(blocks) >= 9
    for name, block in blocks:
        exec(compile(block, name, "exec"), {})
    out = capsys.readouterr().out
    assert "128 distinct values" in out  # the testing guide's failure message
    assert "he_normal() bfloat16 0.0589" in out  # the README's first example prints what its comment says
