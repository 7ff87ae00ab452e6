"""The README's test command is the one CI runs, and its examples hold."""

import pathlib
import re

ROOT = pathlib.Path(__file__).parent.parent


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    assert len(commands) == 2, commands
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert commands[1] in ci


def test_readme_whole_model_examples_run_and_print_their_plan(capsys):
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"## Whole models: rules, `plan`, and layer-aware re-init\n(.*?)\n## ", readme, re.S).group(1)
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 4
    scopes = []
    for block in blocks:
        scopes.append({})
        exec(compile(block, "README.md", "exec"), scopes[-1])
    printed = capsys.readouterr().out.splitlines()
    shown = re.findall(r"\nprints\n\n```\n(.*?)```", section, re.S)
    assert len(shown) == 2
    assert printed == "".join(shown).splitlines()
    assert scopes[0]["model"].attn.query.kernel[...].shape == (256, 4, 64)
    assert scopes[2]["params"]["layers"][1]["mlp"]["kernel"].shape == (256, 1024)
    stacked = scopes[3]["params"]["params"]["ScanBlock_0"]["Dense_1"]["kernel"]
    assert abs(float(stacked[5].std()) / (2 / 256) ** 0.5 - 1) < 0.02  # one layer's law in the last layer


# Sections whose code blocks run in their own tests: the whole-model one above (its printed plan checked), the
# sharded one on 8 devices (tests/multidevice/test_readme_sharding.py).
OWN_TESTS = ("## Whole models:", "## Sharded init:")


def test_every_other_python_block_runs_as_written(capsys):
    readme = (ROOT / "README.md").read_text()
    sections = re.split(r"\n(?=## )", readme)
    blocks = [
        block
        for section in sections
        if not section.startswith(OWN_TESTS)
        for block in re.findall(r"```python\n(.*?)```", section, re.S)
    ]
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    assert "128 distinct values" in capsys.readouterr().out
