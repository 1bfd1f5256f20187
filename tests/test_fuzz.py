"""Fuzzing every subcommand of the command line with bad, extreme and valid arguments.

Laws, for every argv a strategy builds (run in this process through ``main(argv)``; a few
also as real ``python -m suptheory`` processes):

- the exit code is 0 or 2 (1 is for failures that are not the input's fault: a full disk, a
  damaged store -- never reached by these inputs), and never a traceback on stderr;
- a nonzero exit prints exactly one line on stderr;
- an argument that is certainly bad (``nan``, ``abc``, a fraction or a negative for a count,
  an unknown option) exits nonzero; a valid argv exits 0, with at most one-line notes on
  stderr (``suptheory analyze: note: m = 4 < n = 12 ...``);
- input files (weights, result stores) are byte-identical after the command read them.

Sizes are tiny (``--steps 5``, n and m below 10) so the module runs in well under a minute
with a warm numba cache; with ``HYPOTHESIS_PROFILE=ci`` the examples are derandomized.
Defects in files of other layers are pinned as ``xfail(strict=True)`` examples at the end.
Set ``SUPTHEORY_FUZZ_TABLE=path`` to write the count of inputs per subcommand and outcome.
"""

from __future__ import annotations

import collections
import hashlib
import os
import sqlite3
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suptheory import ResultStore
from suptheory.cli.main import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SLOW = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: outcomes per subcommand: (command, "exit 0" / "exit 2 (one line)" / ...) -> count
TALLY: collections.Counter[tuple[str, str]] = collections.Counter()

BIG = str(10**400)
#: tokens no numeric option accepts
ALWAYS_BAD = ["nan", "inf", "-inf", "abc", "", "1e400", "-" + BIG + "e5", "0x10", "1,5", "--"]
#: tokens no count option accepts (besides ALWAYS_BAD)
BAD_COUNTS = ["-1", "2.5", "True", "1e300", BIG, str(2**63), "-0.5"]
#: extreme but well-formed numbers: bad for some options, fine for others
EXTREMES = ["0", "-0", "1e-300", "1e300", "-1e300", "5e-324", "1_000", "1e6", " 7", "1.0"]
#: extremes for the counts of pack, train and check: whole-number spellings and small sizes
SAFE_COUNT_EXTREMES = ["0", "-0", "1e-300", "-1e300", "5e-324", "1_0", " 7", "1.0", "-5", "9"]


def hashes(*paths):
    found = []
    for path in paths:
        if os.path.isfile(path):
            with open(path, "rb") as fh:
                found.append(hashlib.sha256(fh.read()).hexdigest())
    return found


def run_cli(argv, capsys):
    """main(argv) in this process: (code, stdout, stderr), argparse's SystemExit included."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def check_laws(command, argv, capsys, *, bad=False, valid=False, files=()):
    before = hashes(*files)
    code, out, err = run_cli(argv, capsys)
    assert hashes(*files) == before, f"{argv} changed an input file"
    assert "Traceback" not in err and "Traceback" not in out, (argv, err)
    assert code in (0, 2), (argv, code, err)
    if code != 0:
        assert len(err.splitlines()) == 1, (argv, err)
        assert err.startswith("suptheory"), (argv, err)
    if bad:
        assert code != 0, (argv, out, err)
    if valid:  # exit 0; stderr at most one-line notes (analyze: "m < n: transpose?")
        assert code == 0, (argv, err)
        assert all(line.startswith("suptheory ") for line in err.splitlines()), (argv, err)
    kind = "valid" if valid else "bad" if bad else "mixed"
    TALLY[(command, kind, "exit 0" if code == 0 else f"exit {code}, one line")] += 1
    return code, out, err


@pytest.fixture(scope="module", autouse=True)
def _write_table():
    yield
    target = os.environ.get("SUPTHEORY_FUZZ_TABLE")
    if target:
        with open(target, "w") as fh:
            for (command, kind, outcome), n in sorted(TALLY.items()):
                fh.write(f"{command}\t{kind}\t{outcome}\t{n}\n")


def numbers(low, high):
    return st.floats(low, high, allow_nan=False).map(lambda x: f"{x:.6g}")


def mutate(draw, pairs, count_options):
    """Replace one option's value by a bad token, or drop / add an option; return (argv, bad)."""
    pairs = list(pairs)
    how = draw(st.sampled_from(["bad", "extreme", "count", "drop", "unknown", "repeat"]))
    i = draw(st.integers(0, len(pairs) - 1))
    option, value = pairs[i]
    certainly_bad = False
    if how == "bad" and value is not None:
        pairs[i] = (option, draw(st.sampled_from(ALWAYS_BAD)))
        certainly_bad = True
    elif how == "count" and option in count_options:
        pairs[i] = (option, draw(st.sampled_from(BAD_COUNTS)))
        certainly_bad = True
    elif how == "extreme" and value is not None and option in count_options:
        # Memory-safe: a count that parses (<= 2**63 - 1) but is huge makes the kernels
        # allocate batch x m floats; with memory overcommit the allocation can succeed and
        # the OOM killer then ends the test run. Huge counts are in BAD_COUNTS (refused).
        pairs[i] = (option, draw(st.sampled_from(SAFE_COUNT_EXTREMES)))
    elif how == "extreme" and value is not None:
        pairs[i] = (
            option,
            draw(st.sampled_from(EXTREMES) | st.integers(-(10**30), 10**30).map(str)),
        )
    elif how == "drop":
        del pairs[i]
    elif how == "unknown":
        pairs.append(("--bogus", draw(st.sampled_from([None, "1"]))))
        certainly_bad = True
    else:
        pairs.append(pairs[i])
    argv = []
    for option, value in pairs:
        argv.append(option)
        if value is not None:
            argv.append(value)
    return argv, certainly_bad


def flatten(pairs):
    return [x for option, value in pairs for x in ((option,) if value is None else (option, value))]


# -- calc and solve (closed forms) --------------------------------------------------------------


@st.composite
def calc_pairs(draw):
    n = draw(st.integers(1, 10**5))
    m = draw(st.integers(2, 10**8))
    pairs = [
        ("--n", str(n)),
        ("--m", str(m)),
        ("--l", f"{draw(st.floats(0.5, min(100.0, m - 1))):.6g}"),
    ]
    if draw(st.booleans()):
        pairs.append(("--a", draw(numbers(0.1, 10))))
    budget = draw(st.sampled_from(["", "snr", "error"]))
    if budget == "snr":
        pairs.append(("--snr", draw(numbers(0.1, 10))))
    elif budget == "error":
        pairs.append(("--error", draw(numbers(1e-6, 0.5))))
    if draw(st.booleans()):
        pairs.append(("--q", draw(numbers(0.05, 0.95))))
    pairs += draw(st.sampled_from([[], [("--json", None)], [("--explain", None)]]))
    return pairs


@FAST
@given(pairs=calc_pairs())
def test_calc_valid(pairs, capsys):
    check_laws("calc", ["calc", *flatten(pairs)], capsys, valid=True)


@FAST
@given(data=st.data())
def test_calc_bad(data, capsys):
    argv, bad = mutate(data.draw, data.draw(calc_pairs()), ())
    check_laws("calc", ["calc", *argv], capsys, bad=bad)


@st.composite
def solve_pairs(draw):
    target = draw(st.sampled_from(["a", "noise"]))
    n = draw(st.integers(1, 10**5))  # m > n: the optimal model has interference
    # m > 100 >= l: l counts the other features, l <= m - 1
    pairs = [
        ("--n", str(n)),
        ("--m", str(draw(st.integers(max(n + 1, 101), 10**6)))),
        ("--l", draw(numbers(0.5, 100))),
    ]
    if target == "a":
        pairs.append(("--noise", draw(numbers(1e-3, 10))))
    else:
        pairs.append(("--a", draw(numbers(0.1, 10))))
    pairs.append(("--model", draw(st.sampled_from(["random", "linsefors", "worst", "optimal"]))))
    if draw(st.booleans()):
        pairs.append(("--json", None))
    return target, pairs


@FAST
@given(task=solve_pairs())
def test_solve_valid(task, capsys):
    target, pairs = task
    check_laws("solve", ["solve", target, *flatten(pairs)], capsys, valid=True)


@FAST
@given(data=st.data())
def test_solve_bad(data, capsys):
    target, pairs = data.draw(solve_pairs())
    argv, bad = mutate(data.draw, pairs, ())
    target = data.draw(st.sampled_from([target, "n", "m", "l", "snr", "error", "x", "--n"]))
    check_laws("solve", ["solve", target, *argv], capsys, bad=bad or target in ("x", "--n"))


# -- pack and train (numba kernels, tiny sizes) ---------------------------------------------------

PACK_COUNTS = ("--m", "--n", "--steps", "--restarts")


@st.composite
def pack_pairs(draw):
    pairs = [
        ("--m", str(draw(st.integers(2, 8)))),
        ("--n", str(draw(st.integers(1, 4)))),
        ("--steps", str(draw(st.integers(1, 5)))),
        ("--restarts", str(draw(st.integers(1, 2)))),
        ("--objective", draw(st.sampled_from(["coherence", "spherical-code", "frame-potential"]))),
        ("--seed", str(draw(st.integers(0, 2**64)))),
        ("--no-progress", None),
    ]
    pairs += draw(st.sampled_from([[], [("--json", None)], [("--no-polish", None)]]))
    return pairs


@FAST
@given(pairs=pack_pairs())
def test_pack_valid(pairs, capsys):
    check_laws("pack", ["pack", *flatten(pairs)], capsys, valid=True)


@FAST
@given(data=st.data())
def test_pack_bad(data, capsys):
    argv, bad = mutate(data.draw, data.draw(pack_pairs()), PACK_COUNTS)
    check_laws("pack", ["pack", *argv], capsys, bad=bad)


TRAIN_COUNTS = ("--m", "--n", "--steps", "--batch", "--restarts", "--threads")


@st.composite
def train_pairs(draw):
    pairs = [
        ("--m", str(draw(st.integers(2, 6)))),
        ("--n", str(draw(st.integers(1, 3)))),
        ("--p", draw(numbers(0.01, 1))),
        ("--steps", str(draw(st.integers(1, 5)))),
        ("--batch", str(draw(st.integers(1, 16)))),
        ("--model", draw(st.sampled_from(["relu", "linear", "hidden-relu", "abs"]))),
        ("--optimizer", draw(st.sampled_from(["adamw", "adam"]))),
        ("--schedule", draw(st.sampled_from(["constant", "linear", "cosine"]))),
        ("--dtype", draw(st.sampled_from(["float32", "float64"]))),
        ("--lr", draw(numbers(1e-4, 1e-1))),
        ("--seed", str(draw(st.integers(0, 2**32)))),
        ("--threads", str(draw(st.integers(1, 2)))),
        ("--no-progress", None),
    ]
    if draw(st.booleans()):
        pairs.append(("--json", None))
    return pairs


@FAST
@given(pairs=train_pairs())
def test_train_valid(pairs, capsys):
    check_laws("train", ["train", *flatten(pairs)], capsys, valid=True)


@FAST
@given(data=st.data())
def test_train_bad(data, capsys):
    argv, bad = mutate(data.draw, data.draw(train_pairs()), TRAIN_COUNTS)
    check_laws("train", ["train", *argv], capsys, bad=bad)


@pytest.mark.slow
def test_train_preset_tiny(capsys):
    for preset in ("anthropic-intro", "varying-sparsity", "uniform-superposition", "two-feature"):
        argv = ["train", "--preset", preset, "--steps", "2", "--batch", "4", "--no-progress"]
        check_laws("train", argv, capsys, valid=True)
    check_laws("train", ["train", "--preset", "nope", "--no-progress"], capsys, bad=True)


# -- check (simulations; the slowest: few examples) ------------------------------------------

CHECK_COUNTS = ("--n", "--m", "--trials", "--coherence-trials", "--steps", "--batch")


@st.composite
def check_pairs(draw):
    m = draw(st.integers(3, 12))
    pairs = [("--n", str(draw(st.integers(2, 8)))), ("--m", str(m))]
    if draw(st.booleans()):
        pairs.append(("--l", f"{draw(st.floats(0.5, m - 1)):.4g}"))
    else:
        pairs.append(("--p", draw(numbers(0.05, 1))))
    pairs += [
        ("--trials", str(draw(st.integers(2, 50)))),
        ("--coherence-trials", str(draw(st.integers(2, 5)))),
        ("--no-train", None),
        ("--no-pack", None),
    ]
    if draw(st.booleans()):
        pairs.append(("--json", None))
    return pairs


@SLOW
@given(pairs=check_pairs())
def test_check_valid(pairs, capsys):
    check_laws("check", ["check", *flatten(pairs)], capsys, valid=True)


@FAST
@given(data=st.data())
def test_check_bad_arguments(data, capsys):
    # Only argument errors (argparse) and errors raised before the simulations: a certainly
    # bad token, or a missing required option.
    pairs = data.draw(check_pairs())
    i = data.draw(st.integers(0, len(pairs) - 1))
    option, value = pairs[i]
    if value is None:
        pairs[i] = ("--bogus", None)
    else:
        bad = ALWAYS_BAD + (BAD_COUNTS if option in CHECK_COUNTS else [])
        pairs[i] = (option, data.draw(st.sampled_from(bad)))
    check_laws("check", ["check", *flatten(pairs)], capsys, bad=True)


# -- analyze and sweep show (files: never changed by reading) ---------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    rng = np.random.default_rng(0)
    made = {}
    made["ok.npy"] = tmp / "ok.npy"
    np.save(made["ok.npy"], rng.standard_normal((12, 4)).astype(np.float32))
    made["ok.npz"] = tmp / "ok.npz"
    np.savez(made["ok.npz"], W_dec=rng.standard_normal((10, 3)))
    made["wide.npy"] = tmp / "wide.npy"
    np.save(made["wide.npy"], np.zeros((3, 4, 5)))
    made["nan.npy"] = tmp / "nan.npy"
    np.save(made["nan.npy"], np.full((5, 3), np.nan))
    made["garbage.npy"] = tmp / "garbage.npy"
    made["garbage.npy"].write_bytes(b"\x93NUMPY garbage" * 10)
    made["empty.npy"] = tmp / "empty.npy"
    made["empty.npy"].write_bytes(b"")
    made["text.txt"] = tmp / "text.txt"
    made["text.txt"].write_text("1 2 3\n")
    made["store.sqlite"] = tmp / "store.sqlite"
    with ResultStore(made["store.sqlite"]) as store:
        for i in range(3):
            store.put({"i": i, "name": f"p{i}"}, {"v": float(i), "W": np.ones((2, i + 1))})
    made["foreign.sqlite"] = tmp / "foreign.sqlite"
    conn = sqlite3.connect(made["foreign.sqlite"])
    conn.execute("CREATE TABLE points(x)")
    conn.commit()
    conn.close()
    made["dir"] = tmp / "adir"
    made["dir"].mkdir()
    made["missing"] = tmp / "missing.npy"
    return {name: str(path) for name, path in made.items()}


@FAST
@given(data=st.data())
def test_analyze(data, files, capsys):
    name = data.draw(st.sampled_from(sorted(files)))
    argv = ["analyze", files[name], "--no-progress"]
    valid = name in ("ok.npy", "ok.npz")
    if name == "ok.npz":
        argv += ["--key", "W_dec"]
    extra = data.draw(
        st.sampled_from(
            [
                [],
                ["--json"],
                ["--transpose"],
                ["--quantiles", "0.1", "0.9"],
                ["--threads", "1"],
                ["--quantiles", "2"],
                ["--quantiles", "nan"],
                ["--threads", "0"],
                ["--key", "nope"],
            ]
        )
    )
    valid = valid and extra not in (
        ["--quantiles", "2"],
        ["--quantiles", "nan"],
        ["--threads", "0"],
        ["--key", "nope"],
    )
    bad = name not in ("ok.npy", "ok.npz") or extra in (["--quantiles", "nan"], ["--threads", "0"])
    check_laws("analyze", argv + extra, capsys, valid=valid, bad=bad, files=list(files.values()))


@FAST
@given(
    name=st.sampled_from(["ok.npy", "ok.npz"]),
    extra=st.lists(
        st.sampled_from(
            [
                "--json",
                "--transpose",
                "--quantiles 0.1 0.9",
                "--quantiles",
                "--threads 1",
                "--threads 2",
            ]
        ),
        max_size=3,
        unique=True,
    ),
)
def test_analyze_valid(name, extra, files, capsys):
    argv = ["analyze", files[name], "--no-progress", *" ".join(extra).split()]
    if name == "ok.npz":
        argv += ["--key", "W_dec"]
    check_laws("analyze", argv, capsys, valid=True, files=[files[name]])


@FAST
@given(flags=st.lists(st.sampled_from(["--json", "--csv", "--arrays"]), max_size=2, unique=True))
def test_sweep_show_valid(flags, files, capsys):
    if {"--json", "--csv"} <= set(flags):
        flags.remove("--csv")
    argv = ["sweep", "show", files["store.sqlite"], *flags]
    check_laws("sweep", argv, capsys, valid=True, files=[files["store.sqlite"]])


@FAST
@given(data=st.data())
def test_sweep_show(data, files, capsys):
    name = data.draw(st.sampled_from(sorted(files)))
    flags = data.draw(
        st.sampled_from(
            [
                [],
                ["--json"],
                ["--csv"],
                ["--arrays"],
                ["--json", "--arrays"],
                ["--csv", "--arrays"],
                ["--json", "--csv"],
                ["--bogus"],
            ]
        )
    )
    valid = name == "store.sqlite" and flags not in (["--json", "--csv"], ["--bogus"])
    argv = ["sweep", "show", files[name], *flags]
    code, out, _ = check_laws(
        "sweep", argv, capsys, valid=valid, bad=not valid, files=list(files.values())
    )
    if valid and not flags:
        assert out.splitlines()[-1] == f"3 finished point(s) in {files[name]}"


@FAST
@given(
    argv=st.lists(
        st.sampled_from(
            [
                "calc",
                "solve",
                "sweep",
                "show",
                "train",
                "analyze",
                "pack",
                "check",
                "--n",
                "1",
                "--json",
                "-h",
                "x",
                "",
                "--version",
                "nan",
            ]
        ),
        max_size=4,
    )
)
def test_top_level(argv, capsys):
    if "-h" in argv or "--version" in argv:
        return  # help and version exit 0 by design, whatever else is given
    check_laws("suptheory", argv, capsys)


# -- a few as real processes -----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["calc", "--n", "nan", "--m", "10", "--l", "1"],
        ["solve", "x"],
        ["pack", "--m", BIG, "--n", "3"],
        ["train", "--m", "3", "--n", "2", "--threads", "-4"],
        ["check", "--n", "8", "--m", "16", "--l", "2", "--batch", "9.3e18"],
        ["analyze", "/nonexistent/w.npy"],
        ["sweep", "show", "/nonexistent/s.sqlite"],
        ["sweep"],
    ],
)
def test_real_processes(argv):
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "suptheory", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr
    assert proc.stdout == ""


# -- defects in files of other layers (not this change's to edit): pinned, strict -------------


def test_calc_help_states_the_range_of_n(capsys):
    # reproducer: suptheory calc --n 0.5 --m 10 --l 1
    #   -> "suptheory calc: error: n must be in [1, inf); got 0.5", but calc --help: "(n > 0)"
    code, _, err = run_cli(["calc", "--n", "0.5", "--m", "10", "--l", "1"], capsys)
    assert code == 2 and "[1, inf)" in err
    code, out, _ = run_cli(["calc", "--help"], capsys)
    assert "n >= 1" in " ".join(out.split()) or "n ≥ 1" in out


def test_analyze_refuses_an_absurd_thread_count(files, capsys):
    # was: suptheory analyze ok.npy --threads <10**400> -> exit 0 (clamped silently)
    check_laws(
        "analyze",
        ["analyze", files["ok.npy"], "--no-progress", "--threads", BIG],
        capsys,
        bad=True,
        files=[files["ok.npy"]],
    )


@pytest.mark.parametrize("threads", ["3", -7, True])
def test_train_toy_models_validates_threads(threads):
    # was: train_toy_models(2, 1, steps=1, batch=2, threads=-7) trained (no error); every
    # public function's threads now passes through the validated kernels' num_threads
    from suptheory.empirical.toy_models import train_toy_models

    with pytest.raises((TypeError, ValueError), match="threads"):
        train_toy_models(2, 1, steps=1, batch=2, threads=threads, progress=False)
