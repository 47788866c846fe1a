"""Each family's parameter declaration drives its constructor, the scenario check and the calibration."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

import numpy as np
import pytest

from sim.calibration import parameters as calibration
from sim.calibration.parameters import FittedFamily
from sim.distributions import (
    FAMILIES,
    SHAPE_BOUNDS,
    DistributionError,
    Exponential,
    ParameterKind,
    ParameterSpec,
    PiecewiseExponential,
    Weibull,
)
from sim.scenario.checks import FieldError
from sim.scenario.distribution_check import distribution


@dataclass(frozen=True, repr=False)
class _Toy(Exponential):
    """A made-up family with one parameter of every kind, to show the checks follow the declaration."""

    steps: tuple[float, ...] = (1.0,)
    weights: tuple[float, ...] = (1.0, 1.0, 1.0)
    tilt: float = 1.0
    family = "toy"
    parameter_specs = (
        Exponential.parameter_specs[0],
        ParameterSpec("steps", ParameterKind.INCREASING_LIST, "Toy cut points.", min_length=1),
        ParameterSpec("weights", ParameterKind.POSITIVE_LIST, "Toy weights.", min_length=3),
        ParameterSpec("tilt", ParameterKind.POSITIVE, "Toy shape.", search_bounds=(0.5, 2.0)),
    )


@dataclass(frozen=True, repr=False)
class _FittableToy(Weibull):
    """A made-up fittable family with three searched parameters."""

    skew: float = 1.0
    family = "fittable_toy"
    parameter_specs = Weibull.parameter_specs + (
        ParameterSpec("skew", ParameterKind.POSITIVE, "Toy skew.", search_bounds=(0.1, 10.0)),
    )


@pytest.mark.parametrize("cls", FAMILIES.values(), ids=lambda cls: cls.family)
def test_every_family_declares_its_constructor_parameters(cls) -> None:
    init = [f.name for f in dataclasses.fields(cls) if f.init]
    assert [spec.name for spec in cls.parameter_specs] == init
    assert FAMILIES[cls.family] is cls
    for spec in cls.parameter_specs:
        assert isinstance(spec, ParameterSpec) and isinstance(spec.kind, ParameterKind)
        assert spec.doc.strip() and "\n" not in spec.doc
        assert (spec.min_length > 0) == (spec.kind is not ParameterKind.POSITIVE)


def test_declared_kinds_and_bounds() -> None:
    kinds = {name: [(s.name, s.kind, s.min_length, s.search_bounds) for s in cls.parameter_specs] for name, cls in FAMILIES.items()}
    median = ("median_months", ParameterKind.POSITIVE, 0, (0.03, 600.0))
    shape = ("shape", ParameterKind.POSITIVE, 0, (0.25, 8.0))
    assert kinds == {
        "exponential": [median],
        "weibull": [median, shape],
        "loglogistic": [median, shape],
        "lognormal": [median, shape],
        "piecewise_exponential": [
            median,
            ("cuts_months", ParameterKind.INCREASING_LIST, 1, None),
            ("relative_hazards", ParameterKind.POSITIVE_LIST, 2, None),
        ],
    }
    assert SHAPE_BOUNDS == (0.25, 8.0) and calibration.SHAPE_BOUNDS is SHAPE_BOUNDS


def test_inconsistent_declarations_raise() -> None:
    with pytest.raises(ValueError, match="^x: min_length applies to list parameters only$"):
        ParameterSpec("x", ParameterKind.POSITIVE, "d", min_length=1)
    with pytest.raises(ValueError, match=re.escape("x: search_bounds must be 0 < low < high on a scalar, got (2.0, 1.0)")):
        ParameterSpec("x", ParameterKind.POSITIVE, "d", search_bounds=(2.0, 1.0))
    with pytest.raises(ValueError, match=re.escape("x: search_bounds must be 0 < low < high on a scalar, got (1.0, 2.0)")):
        ParameterSpec("x", ParameterKind.POSITIVE_LIST, "d", min_length=1, search_bounds=(1.0, 2.0))


def test_constructor_checks_follow_the_declaration() -> None:
    assert _Toy(2.0, (1.0, 3.0), (1.0, 2.0, 3.0), 0.7).tilt == 0.7
    with pytest.raises(DistributionError, match=r"^tilt must be a positive number, got -0\.7$"):
        _Toy(2.0, tilt=-0.7)
    spec = PiecewiseExponential.parameter_specs[1]
    assert spec.check([1, 2.5]) == (1.0, 2.5)
    with pytest.raises(DistributionError, match=re.escape("cuts_months must be positive and strictly increasing, got [1.0, 1.0]")):
        spec.check([1, 1])


# The scenario check: one test per declared kind, run on a real family and on the toy one.


def test_scenario_positive_number() -> None:
    got = distribution({"family": "weibull", "median_months": 4, "shape": 1.5}, "efficacy.pfs")
    assert got == Weibull(4.0, 1.5)
    with pytest.raises(FieldError, match=r"^efficacy\.pfs\.shape must be a positive number, got 0$"):
        distribution({"family": "weibull", "median_months": 4, "shape": 0}, "efficacy.pfs")
    with pytest.raises(FieldError, match=r"^p\.tilt must be a positive number, got 'x'$"):
        _toy_check({"family": "toy", "median_months": 4, "steps": [1], "weights": [1, 1, 1], "tilt": "x"})


def test_scenario_positive_list_with_minimum_length() -> None:
    got = distribution({"family": "piecewise_exponential", "median_months": 4, "cuts_months": [2], "relative_hazards": [1, 0.5]}, "pfs")
    assert got == PiecewiseExponential(4.0, (2.0,), (1.0, 0.5))
    with pytest.raises(FieldError, match=re.escape("pfs.relative_hazards must be a list of at least 2 entries, got [1]")):
        distribution({"family": "piecewise_exponential", "median_months": 4, "cuts_months": [2], "relative_hazards": [1]}, "pfs")
    with pytest.raises(FieldError, match=re.escape("pfs.relative_hazards[1] must be a positive number, got -1")):
        distribution({"family": "piecewise_exponential", "median_months": 4, "cuts_months": [2], "relative_hazards": [1, -1]}, "pfs")
    with pytest.raises(FieldError, match=re.escape("p.weights must be a list of at least 3 entries, got [1, 1]")):
        _toy_check({"family": "toy", "median_months": 4, "steps": [1], "weights": [1, 1], "tilt": 1})


def test_scenario_increasing_list() -> None:
    with pytest.raises(FieldError, match=re.escape("pfs.cuts_months must be a list of at least 1 entry, got []")):
        distribution({"family": "piecewise_exponential", "median_months": 4, "cuts_months": [], "relative_hazards": [1, 2]}, "pfs")
    with pytest.raises(FieldError, match=re.escape("pfs: cuts_months must be positive and strictly increasing, got [6.0, 2.0]")):
        distribution({"family": "piecewise_exponential", "median_months": 4, "cuts_months": [6, 2], "relative_hazards": [1, 1, 1]}, "pfs")
    with pytest.raises(FieldError, match=re.escape("p: steps must be positive and strictly increasing, got [3.0, 3.0]")):
        _toy_check({"family": "toy", "median_months": 4, "steps": [3, 3], "weights": [1, 1, 1], "tilt": 1})


def test_scenario_names_and_requires_the_declared_parameters() -> None:
    with pytest.raises(FieldError, match=r"^p\.shape is not a parameter of the toy family; allowed: median_months, steps, weights, tilt$"):
        _toy_check({"family": "toy", "median_months": 4, "shape": 1})
    with pytest.raises(FieldError, match=r"^p\.steps is required for the toy family$"):
        _toy_check({"family": "toy", "median_months": 4})
    assert _toy_check({"family": "toy", "median_months": 4, "steps": [1, 2], "weights": [1, 2, 3], "tilt": 2}) == _Toy(
        4.0, (1.0, 2.0), (1.0, 2.0, 3.0), 2.0
    )


def _toy_check(value: dict) -> object:
    """The scenario check with the toy family registered for the duration of the call."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(FAMILIES, "toy", _Toy)
        return distribution(value, "p")


# Calibration: which families are fitted, their bounds, counts and log-parameter order.


def test_fittable_families_are_those_declared_fittable() -> None:
    assert calibration.FITTABLE_FAMILIES == ("exponential", "weibull", "loglogistic", "lognormal", "piecewise_exponential")
    with pytest.raises(ValueError, match="'gompertz' is not a fittable family"):
        FittedFamily("gompertz")
    with pytest.raises(ValueError, match="'piecewise_exponential' needs cut points"):
        FittedFamily("piecewise_exponential")
    with pytest.raises(ValueError, match="'weibull' takes no cut points"):
        FittedFamily("weibull", (2.0,))


@pytest.mark.parametrize("family", ["exponential", "weibull", "loglogistic", "lognormal"])
def test_bounds_and_count_are_the_declared_ones(family: str) -> None:
    specs = FAMILIES[family].parameter_specs
    fitted = FittedFamily(family)
    assert fitted.count == len(specs)
    low, high = calibration.bounds([fitted])
    assert low == [math.log(spec.search_bounds[0]) for spec in specs]
    assert high == [math.log(spec.search_bounds[1]) for spec in specs]
    x = np.log([3.7, 1.9][: len(specs)])
    dist = fitted.distribution(x)
    assert type(dist) is FAMILIES[family]
    assert [getattr(dist, spec.name) for spec in specs] == pytest.approx([3.7, 1.9][: len(specs)], rel=1e-12)


def test_bounds_are_pinned_and_concatenated() -> None:
    low, high = calibration.bounds([FittedFamily("weibull"), FittedFamily("exponential")])
    assert low == [math.log(0.03), math.log(0.25), math.log(0.03)]
    assert high == [math.log(600.0), math.log(8.0), math.log(600.0)]


def test_piecewise_fit_frees_one_relative_hazard_per_cut() -> None:
    fitted = FittedFamily("piecewise_exponential", (1.5, 6.0))
    assert [p.label for p in fitted.free] == ["median_months", "relative_hazards[1]", "relative_hazards[2]"]
    dist = fitted.distribution(np.log([3.0, 0.5, 0.25]))
    assert dist.cuts_months == (1.5, 6.0) and dist.relative_hazards == pytest.approx((1.0, 0.5, 0.25), rel=1e-12)
    assert fitted.describe() == "median and 2 relative hazards"


def test_calibration_reads_a_new_family_from_its_declaration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(FAMILIES, "fittable_toy", _FittableToy)
    monkeypatch.setattr(calibration, "FITTABLE_FAMILIES", (*calibration.FITTABLE_FAMILIES, "fittable_toy"))
    fitted = FittedFamily("fittable_toy")
    assert fitted.count == 3
    low, high = calibration.bounds([fitted])
    assert low == [math.log(0.03), math.log(0.25), math.log(0.1)]
    assert high == [math.log(600.0), math.log(8.0), math.log(10.0)]
    dist = fitted.distribution(np.log([2.0, 1.5, 3.0]))
    assert (dist.median_months, dist.shape, dist.skew) == pytest.approx((2.0, 1.5, 3.0), rel=1e-12)
    assert fitted.rounded(_FittableToy(2.123456, 1.5, 3.000049)) == _FittableToy(2.1235, 1.5, 3.0)


@pytest.mark.parametrize(("shape", "edge"), [(0.25, True), (0.2503, False), (7.995, True), (7.99, False), (1.0, False)])
def test_shape_edge_is_the_declared_range(shape: float, edge: bool) -> None:
    assert bool(FittedFamily("weibull").edges(Weibull(3.0, shape))) is edge
    assert FittedFamily("exponential").edges(Exponential(3.0)) == []
