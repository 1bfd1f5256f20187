import fractions

import numpy as np
import pytest

from suptheory._validate import (
    MAX_COUNT,
    as_generator,
    as_real,
    as_scalar,
    as_seed_sequence,
    check_bool,
    check_choice,
    check_embedding,
    check_int,
)


@pytest.mark.parametrize("bad", ["3", None, True, 1 + 2j, b"x"])
def test_as_real_rejects_non_real_with_type_error(bad):
    with pytest.raises(TypeError, match="^n must"):
        as_real(bad, "n", low=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -1.0, [1.0, np.nan]])
def test_as_real_rejects_bad_values_naming_parameter(bad):
    with pytest.raises(ValueError, match="^n must"):
        as_real(bad, "n", low=0, low_open=True)


def test_as_real_interval_ends():
    assert as_real(1.0, "eps", low=0, high=1, low_open=True) == 1.0
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        as_real(1.0, "eps", low=0, high=1, low_open=True, high_open=True)
    with pytest.raises(ValueError, match="whole number"):
        as_real(2.5, "m", low=1, integer=True)
    assert as_real(np.inf, "m", low=1, allow_inf=True) == np.inf


def test_check_choice_and_int():
    with pytest.raises(TypeError):
        check_choice(3, "model", ["a"])
    with pytest.raises(TypeError):
        check_int(True, "trials")
    with pytest.raises(ValueError):
        check_int(2.5, "trials")
    assert check_int(np.int64(5), "trials") == 5


def test_check_embedding():
    with pytest.raises(ValueError, match="finite"):
        check_embedding([[np.nan, 1.0]])
    with pytest.raises(ValueError, match="at least one row"):
        check_embedding(np.zeros((0, 3)))
    with pytest.raises(TypeError):
        check_embedding([["a"]])
    assert check_embedding(np.ones((2, 2), dtype=np.float32)).dtype == np.float64
    f32 = check_embedding(np.ones((2, 2), dtype=np.float32), dtypes=(np.float32, np.float64))
    assert f32.dtype == np.float32


def test_generator_reproducible():
    a = as_generator(7).standard_normal(4)
    b = as_generator(7).standard_normal(4)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError):
        as_generator("seed")


# --------------------------------------------------------------------------- as_scalar


@pytest.mark.parametrize("good", [3, 3.0, np.float32(3), np.int64(3), np.asarray(3.0)])
def test_as_scalar_accepts_one_real_number(good):
    value = as_scalar(good, "a", low=0, low_open=True)
    assert value == 3.0 and type(value) is float


@pytest.mark.parametrize("bad", [[1.0, 2.0], np.ones((1, 1)), [3.0]])
def test_as_scalar_rejects_arrays_naming_parameter(bad):
    with pytest.raises(ValueError, match=r"^a must be a single number, not an array; got shape"):
        as_scalar(bad, "a")


def test_as_scalar_checks_like_as_real():
    with pytest.raises(ValueError, match=r"^l must be in \(0, 9\]; got 10"):
        as_scalar(10, "l", low=0, high=9, low_open=True)
    with pytest.raises(ValueError, match="^m must be a whole number"):
        as_scalar(2.5, "m", integer=True)
    with pytest.raises(TypeError, match="^a must"):
        as_scalar("1", "a")
    assert as_scalar(np.inf, "m", low=1, allow_inf=True) == np.inf


# --------------------------------------------------------------------------- check_int


@pytest.mark.parametrize("huge", [10**400, -(10**400), np.uint64(2**64 - 1)])
def test_check_int_huge_values_raise_value_error_naming_range(huge):
    with pytest.raises(ValueError, match=rf"^trials must be a whole number in \[2, {MAX_COUNT}\]"):
        check_int(huge, "trials", low=2, high=MAX_COUNT)


def test_check_int_bounds_and_huge_input():
    assert check_int(10**400, "n") == 10**400  # exact, no upper bound given
    assert check_int(MAX_COUNT, "trials", high=MAX_COUNT) == MAX_COUNT
    assert check_int(5, "steps", low=5, high=5) == 5
    with pytest.raises(ValueError, match=r"^steps must be a whole number in \[1, 10\]; got 11$"):
        check_int(11, "steps", high=10)
    with pytest.raises(ValueError, match=r"got 10000000\.\.\. \(401 digits\)$"):
        check_int(10**400, "trials", high=10)
    # a fraction beyond the float range, and floats that are not whole or finite
    for bad in (fractions.Fraction(10**400, 3), 1e400, float("nan"), 1.5):
        with pytest.raises(ValueError, match="^trials must be a whole number"):
            check_int(bad, "trials", high=MAX_COUNT)
    for bad in ("3", None, np.True_, 1 + 0j):
        with pytest.raises(TypeError, match="^trials must be a whole number"):
            check_int(bad, "trials")


# --------------------------------------------------------------------------- check_bool


def test_check_bool():
    assert check_bool(True, "progress") is True
    assert check_bool(np.False_, "progress") is False
    assert check_bool(None, "train", allow_none=True) is None
    with pytest.raises(TypeError, match=r"^progress must be True or False; got None$"):
        check_bool(None, "progress")
    for bad in (0, 1, "yes", 1.0):
        with pytest.raises(TypeError, match=r"^train must be True, False or None \(automatic\)"):
            check_bool(bad, "train", allow_none=True)


# --------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("bad", ["seed", 1.5, np.float64(2.0), True, np.True_, [1, 2], b"1"])
def test_seeds_of_the_wrong_kind_raise_type_error(bad):
    with pytest.raises(TypeError, match="^seed must be None, a non-negative int"):
        as_generator(bad)
    with pytest.raises(TypeError, match="^seed must be None, a non-negative int"):
        as_seed_sequence(bad, 2)


@pytest.mark.parametrize("bad", [-1, np.int64(-5)])
def test_negative_seeds_raise_value_error(bad):
    with pytest.raises(ValueError, match="^seed must be None, a non-negative int"):
        as_generator(bad)
    with pytest.raises(ValueError, match="^seed must be None, a non-negative int"):
        as_seed_sequence(bad)


def test_as_seed_sequence():
    # an int: the same children as numpy's SeedSequence(seed).spawn(count)
    kids = as_seed_sequence(3, 4)
    ref = np.random.SeedSequence(3).spawn(4)
    assert [k.generate_state(2).tolist() for k in kids] == [
        k.generate_state(2).tolist() for k in ref
    ]
    assert as_seed_sequence(np.int64(3)).entropy == 3
    assert isinstance(as_seed_sequence(None), np.random.SeedSequence)
    # a SeedSequence is used itself: spawning advances it
    ss = np.random.SeedSequence(9)
    assert as_seed_sequence(ss) is ss
    first, second = as_seed_sequence(ss, 1), as_seed_sequence(ss, 1)
    assert (first[0].spawn_key, second[0].spawn_key) == ((0,), (1,))
    # a Generator seeds a sequence from one number it draws (reproducible from its seed)
    a = as_seed_sequence(np.random.default_rng(5), 2)
    b = as_seed_sequence(np.random.default_rng(5), 2)
    assert a[1].generate_state(2).tolist() == b[1].generate_state(2).tolist()
    assert as_seed_sequence(0, 0) == []
    with pytest.raises(ValueError, match="^count must"):
        as_seed_sequence(0, -1)


def test_as_generator_accepts_every_seed_kind():
    gen = np.random.default_rng(1)
    assert as_generator(gen) is gen
    from_int = as_generator(7).random()
    assert as_generator(np.random.SeedSequence(7)).random() == from_int
    assert as_generator(np.uint8(7)).random() == from_int
    assert isinstance(as_generator(None), np.random.Generator)
    assert isinstance(as_generator(10**40), np.random.Generator)


@pytest.mark.parametrize("value", [10**400, -(10**400), [1, 10**400]])
def test_integers_past_float64_are_a_value_error_naming_the_parameter(value):
    # was: TypeError "got dtype object" (and OverflowError further down)
    with pytest.raises(ValueError, match=r"m must be in \[1, inf\) and within float64's range"):
        as_real(value, "m", low=1)


def test_integers_past_int64_within_float64_are_accepted():
    assert float(as_real(2**70, "m", low=1)) == 2.0**70
    np.testing.assert_array_equal(as_real([2**70, 3], "m"), [2.0**70, 3.0])


def test_available_memory_is_a_positive_byte_count():
    from suptheory._validate import available_memory

    have = available_memory()
    assert have is None or 2**20 < have < 2**50
