"""The command line: the tour's numbers, files and errors, and `propagate`."""

import subprocess
import sys

import pytest

from jax_weightinit._src import cli


def test_tour_prints_numbers_and_writes_plots(tmp_path, capsys):
    assert cli.main(["tour", "--seed", "3", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "bounds  -0.31622776601683794 0.31622776601683794" in out
    assert "bounds  -0.44721359549995787 0.44721359549995787" in out
    assert "std     0.4472135954999579" in out
    assert "sqrt(6)/sqrt(n + n)" in out  # the tutorial's typo, called out
    assert "relu       he" in out and "layer 50" in out
    for name in ("xavier_range", "normalized_xavier_range", "he_range", "signal_propagation"):
        path = tmp_path / f"{name}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"wrote {path}" in out


def test_without_matplotlib_it_prints_and_says_how_to_get_plots(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli.plots, "matplotlib_available", lambda: False)
    args = ["propagate", "--depth", "4", "--width", "8", "--out", str(tmp_path / "figs")]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert 'Plots need matplotlib: pip install "jax_weightinit[plot]"' in out and "tanh" in out
    assert not (tmp_path / "figs").exists()


def test_examples_change_with_the_seed_not_the_laws(capsys):
    cli.examples(1)
    first = capsys.readouterr().out
    cli.examples(2)
    second = capsys.readouterr().out
    assert first != second
    assert first.count("0.44721359549995787") == second.count("0.44721359549995787") == 2


def test_propagate_prints_the_table_at_chosen_depths(tmp_path, capsys):
    args = [
        "propagate",
        "--depth",
        "12",
        "--width",
        "32",
        "--activation",
        "relu",
        "--init",
        "he",
        "xavier",
        "--at",
        "1",
        "12",
        "--out",
        str(tmp_path),
    ]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    rows = {
        line.split()[1]: [float(v) for v in line.split()[2:]] for line in out.splitlines() if line.startswith("relu")
    }
    assert rows["he"][1] > 0.1 > 1e-3 > rows["xavier"][1]  # He keeps ReLU alive, the tutorial's xavier does not
    assert (tmp_path / "propagation.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seed", "many"], "--seed: must be an int in [0, 2**63); got 'many'"),
        (["propagate", "--depth", "0"], "must be a positive int"),
        (["propagate", "--activation", "gelu"], "invalid choice: 'gelu'"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_options_are_usage_errors(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_python_dash_m_runs_without_plots(tmp_path):
    command = [
        sys.executable,
        "-m",
        "jax_weightinit",
        "propagate",
        "--depth",
        "3",
        "--width",
        "8",
        "--no-plots",
        "--out",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "tanh" in result.stdout and not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "option, default",
    [
        ("--depth", "50"),
        ("--width", "256"),
        ("--batch", "256"),
        ("--seed", "0"),
        ("--out", "weightinit-tour"),
        ("--activation", "['tanh', 'relu']"),
        ("--init", "['xavier', 'normalized_xavier', 'he']"),
        ("--at", "1, depth/5, depth/2 and depth"),
    ],
)
def test_every_propagate_option_is_documented_with_its_default(option, default, capsys):
    with pytest.raises(SystemExit):
        cli.main(["propagate", "--help"])
    options = " ".join(capsys.readouterr().out.split()).split("options:", 1)[1]
    entry = options.split(f" {option} ", 1)[1].split(" --")[0]
    assert f"(default: {default}" in entry


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("jax-weightinit ")


@pytest.mark.parametrize("name", ["lecun_normal", "lecun"])
def test_initializers_go_by_the_librarys_names_and_the_tours_aliases(name, tmp_path, capsys):
    cli.main(["propagate", "--depth", "3", "--width", "8", "--init", name, "--no-plots"])
    assert "lecun_normal" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, says",
    [
        (["--at", "10", "--depth", "5"], "--at 10 is beyond --depth 5"),
        (["--init", "lecun_norm"], "unknown initializer 'lecun_norm'; choose from small, xavier"),
        (["--depth", "0"], "must be a positive int"),
    ],
)
def test_propagate_refuses_bad_options(args, says, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["propagate", *args, "--no-plots"])
    assert info.value.code == 2 and says in capsys.readouterr().err


def test_figure_legend_explains_coinciding_clipped_and_small_curves():
    import numpy as np

    flat, dying = np.full(5, 0.5), np.array([1e-2, 1e-4, 1e-7, 1e-9, 1e-12])
    table = {
        ("relu", "small"): flat,
        ("relu", "normalized_xavier"): flat,
        ("relu", "lecun_normal"): flat,
        ("relu", "xavier"): dying,
    }
    labels = cli.plots.legend_labels(table, 64)
    assert labels["relu", "normalized_xavier"] == "normalized_xavier, same std as lecun_normal"
    assert labels["relu", "small"] == "small (U[-0.3, 0.3], the tutorial's 'small random values')"
    assert labels["relu", "xavier"] == "xavier, leaves the plot at layer 4"


def test_options_before_the_command_count(tmp_path, capsys):
    cli.main(["--seed", "5", "--no-plots", "tour"])
    before = capsys.readouterr().out
    cli.main(["tour", "--seed", "5", "--no-plots"])
    assert before == capsys.readouterr().out
    cli.main(["--out", str(tmp_path / "figs"), "propagate", "--depth", "2", "--width", "4"])
    assert (tmp_path / "figs" / "propagation.png").exists()


@pytest.mark.parametrize(
    "args, says",
    [
        (["--seed", "99999999999999999999999", "tour"], "--seed: must be an int in [0, 2**63)"),
        (["propagate", "--width", "100000"], "--width: must be at most 8192"),
        (["--out", "{file}", "tour"], "is a file, not a folder"),
    ],
)
def test_bad_values_are_refused_before_the_run(args, says, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("")
    with pytest.raises(SystemExit) as info:
        cli.main([a.format(file=afile) for a in args])
    assert info.value.code == 2 and says in capsys.readouterr().err
