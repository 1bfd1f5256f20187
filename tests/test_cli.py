"""The calc and solve subcommands, in process and as a real `python -m suptheory` process."""

import json
import math
import subprocess
import sys
import textwrap

import pytest

from suptheory import calculate, solve
from suptheory.cli.main import main


def test_calc_prints_the_report(capsys):
    assert main(["calc", "--n", "768", "--m", "16384", "--l", "5"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == str(calculate(768, 16384, 5)).strip()


def test_calc_explain_and_json(capsys):
    assert main(["calc", "--n", "768", "--m", "24_576", "--l", "32", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "times more pessimistic" in out and "l1/AMP" in out
    assert main(["calc", "--n", "768", "--m", "1e4", "--l", "5", "--error", "0.01", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["error"] == 0.01 and "snr" not in data
    assert data["models"]["random"]["l_max"] == pytest.approx(
        calculate(768, 1e4, 5, error=0.01).l_max["random"]
    )


def test_solve_prints_the_answer(capsys):
    args = ["solve", "n", "--m", "1e6", "--l", "100", "--snr", "2", "--model", "random"]
    assert main(args) == 0
    assert capsys.readouterr().out.strip() == "n = 400 (smallest whole width; continuum 400)"
    assert main(["solve", "m", "--n", "768", "--l", "32", "--model", "worst", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["m"] == pytest.approx(solve(m=None, n=768, l=32, model="worst"))
    assert main(["solve", "a", "--n", "768", "--m", "1e4", "--l", "5", "--noise", "0.1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("a = ")
    assert float(out.split("=")[1]) == pytest.approx(solve(a=None, n=768, m=1e4, l=5, noise=0.1))


def test_solve_rounds_the_safe_way(capsys):
    """Widths up, counts down, the continuum value beside; --json keeps both."""
    assert main(["solve", "n", "--m", "16384", "--l", "5", "--model", "linsefors"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == "n = 389 (smallest whole width; continuum 388.1624211)"
    assert main(["solve", "m", "--n", "768", "--l", "32", "--model", "worst", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["m_whole"] == math.floor(data["m"]) and data["m_whole"] < data["m"]
    assert main(["solve", "l", "--n", "768", "--m", "16384", "--model", "linsefors"]) == 0
    assert capsys.readouterr().out.startswith("l = 9 (largest whole number of active features")


def test_errors_exit_2_with_a_message(capsys):
    assert main(["calc", "--n", "0", "--m", "10", "--l", "1"]) == 2
    assert "n must be in (0, inf)" in capsys.readouterr().err
    assert main(["solve", "m", "--n", "768", "--l", "32"]) == 2
    assert "does not depend on m" in capsys.readouterr().err
    assert main(["solve", "n", "--n", "5", "--m", "10", "--l", "1"]) == 2
    assert "is the target" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["calc", "--n", "768", "--m", "10", "--l", "1", "--snr", "2", "--error", "0.1"])
    capsys.readouterr()


@pytest.mark.parametrize("command", ["calc", "solve"])
def test_help_uses_theory_notation(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for word in ("width", "features", "active", "snr", "error", "--json"):
        assert word in text


def test_real_process():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "suptheory",
            "calc",
            "--n",
            "768",
            "--m",
            "24576",
            "--l",
            "32",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    data = json.loads(proc.stdout)
    assert data["models"]["linsefors"]["m_max"] == pytest.approx(math.exp(3.0))


def test_calculator_path_imports_no_numba_sympy_or_scipy_stats():
    code = textwrap.dedent(
        """
        import sys
        import suptheory
        suptheory.explain(suptheory.calculate(768, 24576, 32))
        suptheory.solve(n=None, m=1e6, l=100, snr=2, model="worst")
        from suptheory.cli.main import main
        main(["calc", "--n", "768", "--m", "1e4", "--l", "5"])
        heavy = ["numba", "sympy", "scipy.stats", "scipy.optimize", "scipy.integrate"]
        print(",".join(k for k in heavy if k in sys.modules) or "none")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert proc.stdout.strip().splitlines()[-1] == "none"
