"""The README's test command is the one CI runs, and its examples hold."""

import pathlib
import re

ROOT = pathlib.Path(__file__).parent.parent


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci


def test_readme_init_tree_example_runs_and_prints_its_plan(capsys):
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Whole models: `init_tree` and `plan`\n\n```python\n(.*?)```", readme, re.S).group(1)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    printed = capsys.readouterr().out.splitlines()
    shown = re.search(r"The plan, one row per leaf \(here the first five\):\n\n```\n(.*?)```", readme, re.S).group(1)
    assert printed[:6] == shown.splitlines()
    assert scope["params"]["layers"][1]["mlp"]["kernel"].shape == (256, 1024)
