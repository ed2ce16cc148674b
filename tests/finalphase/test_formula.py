"""The score formula: parsing, safe evaluation, clear errors (no database)."""

import math

import pytest

from challenges.finalphase.formula import FormulaError, formula_parse, formula_validate


def test_mai_psnr_formula_matches_hand_computation():
    f = formula_parse("2 ** (2 * psnr) / (C * runtime_ms)", constants={"C": 0.5})
    assert f.names == {"psnr", "runtime_ms"}
    assert f.evaluate({"psnr": 22.5, "runtime_ms": 40.0}) == pytest.approx(2**45 / 20.0)


def test_mai_depth_formula_matches_hand_computation():
    f = formula_parse("2 ** (-20 * si_rmse) / (C * runtime_ms)", constants={"C": 2})
    assert f.evaluate({"si_rmse": 0.25, "runtime_ms": 100}) == pytest.approx(2**-5 / 200)


def test_functions_unary_minus_and_precedence():
    f = formula_parse(
        "-log(ssim) + sqrt(memory_mb) * max(accuracy_top1, accuracy_top3) - exp(0) + log10(100)"
    )
    value = f.evaluate({"ssim": 0.5, "memory_mb": 16, "accuracy_top1": 0.7, "accuracy_top3": 0.9})
    assert value == pytest.approx(-math.log(0.5) + 4 * 0.9 - 1 + 2)


def test_power_is_right_associative_like_maths():
    assert formula_parse("2 ** 3 ** 2").evaluate({}) == 512


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("9**9**9", "exponent"),
        ("10 ** 400", "too large"),
        ("__import__('os').system('true')", "Attribute access not allowed"),
        ("__import__('os')", "Unknown function “__import__”"),
        ("psnr.real", "Attribute access not allowed"),
        ("(lambda: 1)()", "Lambda not allowed"),
        ("[1, 2][0]", "Indexing not allowed"),
        ("psnr if ssim else 1", "If/else not allowed"),
        ("psnr > 1", "Comparisons not allowed"),
        ("open('x')", "Unknown function “open”"),
        ("'text'", "Only numbers"),
        ("psnr // 2", "The operator // is not allowed"),
        ("psnr ^ 2", "use ** for powers"),
        ("speed * 2", "Unknown name “speed”"),
        ("log + 1", "log is a function"),
        ("max(psnr)", "max() takes 2 to 8 argument(s)"),
        ("sqrt(x=1)", "keyword arguments"),
        ("2 * (psnr", "not a valid expression"),
        ("", "empty"),
        ("psnr + " * 100 + "1", "longer than"),
        ("1" * 400 + " + psnr", "too large"),
    ],
)
def test_bad_formulas_get_a_clear_message(source, message):
    with pytest.raises(FormulaError) as exc:
        formula_parse(source, constants={"C": 1}).evaluate({"psnr": 20, "ssim": 0.5, "runtime_ms": 10})
    assert message in exc.value.message


@pytest.mark.parametrize(
    ("source", "values", "message"),
    [
        ("psnr / (runtime_ms - 10)", {"psnr": 1, "runtime_ms": 10}, "Division by zero"),
        ("2 ** (2 * psnr)", {"psnr": 600}, "exponent"),
        ("log(ssim)", {"ssim": 0}, "log() of a non-positive number"),
        ("sqrt(psnr)", {"psnr": -1}, "sqrt() of a negative number"),
        ("exp(psnr)", {"psnr": 1000}, "too large"),
        ("(-8) ** 0.5", {}, "fractional power"),
        ("0 ** -1", {}, "Division by zero"),
        ("psnr * power_w", {"psnr": 1, "power_w": None}, "not measured"),
        ("psnr", {"psnr": float("nan")}, "not a finite number"),
    ],
)
def test_evaluation_errors(source, values, message):
    with pytest.raises(FormulaError) as exc:
        formula_parse(source).evaluate(values)
    assert message in exc.value.message


def test_constants_are_checked():
    with pytest.raises(FormulaError, match="name of a measured quantity"):
        formula_parse("psnr", constants={"psnr": 1})
    with pytest.raises(FormulaError, match="must be a number"):
        formula_parse("C", constants={"C": "big"})
    with pytest.raises(FormulaError, match="valid constant name"):
        formula_parse("1", constants={"C-1": 1})
    with pytest.raises(FormulaError, match="Unknown name “C”"):
        formula_parse("psnr / C")


def test_validate_catches_a_formula_that_never_computes():
    with pytest.raises(FormulaError, match="Division by zero"):
        formula_validate("psnr / (runtime_ms - runtime_ms)")
    assert formula_validate("psnr / C", constants={"C": 4}).evaluate({"psnr": 8}) == 2
