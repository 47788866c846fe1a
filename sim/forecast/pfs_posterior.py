"""The PFS learned from the data: the ORR and a PFS hazard ratio, from every patient's status together.

With ``forecast.learn_pfs`` every PFS hazard of the scenario is multiplied by an unknown ratio
``h`` (``S_h(t) = S(t) ** h``, a proportional-hazards shift: a Weibull keeps its shape), with the
prior Gamma(k, k), mean 1, worth ``k = max(w ln 2 / m, 2)`` progressions: ``w`` is
``forecast.hazard_prior_months`` and ``m`` the scenario's PFS median, as for the other learned hazards
(:mod:`.hazards`). The ORR and ``h`` are not separable: the ORR shapes the responders' and the
non-responders' PFS laws, and ``h`` moves the ORR's ceiling (``c(h)``, the share progression-free when
a response at the first scan is surely confirmed). Their prior is the product of the two priors
restricted to the pairs the model can carry, ``p <= c(h)``, and their likelihood is each patient's
status probability ``L_i(p, h)`` (:func:`sim.model.status_likelihood.status_probabilities`, the ORR's own
machinery), estimated on a grid: :data:`HAZARD_NODES` ratios spanning the prior's
:data:`PRIOR_TAIL` to ``1 - PRIOR_TAIL`` quantiles, geometrically, and at each ratio
:data:`~.orr_posterior.NODES` ORRs on ``[0, c(h)]``.

Between the nodes ``L_i`` is interpolated linearly in ``x = p / c(h)``, and across ratios ``log L_i`` by a
cubic spline in ``log h`` (linear in ``L`` for a patient with a zero at some ratio), and the posterior
is taken as constant on :data:`HAZARD_CELLS` by
:data:`~.orr_posterior.CELLS` cells. A replicate
draws its ORR from the marginal (:meth:`PfsPosterior.orr_law`, an :class:`~.orr_posterior.OrrPosterior`
whose likelihood is the grid summed over ``h``), then its ratio given that ORR
(:meth:`PfsPosterior.draw`), so the conditioned patients' futures and the trial's dates carry both.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy import interpolate, optimize, stats

from ..errors import TrialsimError
from ..model.conditioning import MAX_CANDIDATES
from ..model.patient_model import PatientModel
from ..model.pfs_link import pfs_at, with_hazard_ratio
from ..model.status_likelihood import LIKELIHOOD_MATCHES, Spread, serially
from ..model.trial_model import TrialModel, orr_ceiling
from ..model.trial_state import TrialState
from ..scenario.model import Scenario
from ..stats.beta_mixture import BetaMixture
from .hazards import PRIOR_MIN_EVENTS
from .orr_posterior import CELLS, NODES, SEED, OrrPosterior, statuses_likelihood

__all__ = [
    "HAZARD_CELLS",
    "HAZARD_NODES",
    "PRIOR_TAIL",
    "HazardSummary",
    "PfsError",
    "PfsPosterior",
    "grid_models",
    "hazard_nodes",
    "pfs_document",
    "pfs_lines",
    "pfs_notes",
    "pfs_posterior",
    "prior_shape",
]

HAZARD_NODES = 7
"""PFS hazard ratios at which each patient's likelihood is estimated (each with its row of ORRs)."""

HAZARD_CELLS = 200
"""Cells of the hazard ratio's range on which the posterior is taken as constant."""

PRIOR_TAIL = 0.001
"""The hazard ratios span the prior's quantiles from this to one minus it; the prior is cut outside."""


class PfsError(ValueError, TrialsimError):
    """The joint posterior cannot give a PFS for an ORR; the message names the fields."""


EDGE_CELLS = 3
"""The cells at each end of the range whose posterior mass :meth:`PfsPosterior.summary` reports."""


def prior_shape(model: TrialModel) -> float:
    """k of the Gamma(k, k) prior of the PFS hazard ratio: ``hazard_prior_months`` patient-months at the PFS's
    median hazard, but never fewer than two progressions."""
    median = float(model.patients.efficacy.pfs.median)
    return max(model.scenario.forecast.hazard_prior_months * math.log(2.0) / median, PRIOR_MIN_EVENTS)


@dataclass(frozen=True)
class HazardSummary:
    """The PFS hazard ratio's posterior under one ORR prior: mean and 90% interval, the PFS median at each, and
    the posterior mass in the :data:`EDGE_CELLS` cells at each end of the range (large when the data sit there)."""

    mean: float
    q05: float
    q95: float
    median_months: tuple[float, float, float]
    edge_mass: float


@dataclass(frozen=True, eq=False, repr=False)
class PfsPosterior:
    """The joint posterior of the ORR and the PFS hazard ratio on a grid (module docstring).

    ``likelihood`` has shape (patients, hazard nodes, ORR nodes), the ORRs of row ``j`` being
    ``ceilings[j] * x`` for ``x`` equally spaced on [0, 1]; ``halves`` the same from each of two
    independent halves of the draws. ``scenario`` gives the ceiling ``c(h)`` at any ratio.
    """

    scenario: Scenario
    shape: float
    hazards: NDArray[np.float64]
    ceilings: NDArray[np.float64]
    likelihood: NDArray[np.float64]
    halves: NDArray[np.float64] | None = None

    @property
    def patients(self) -> int:
        """Patients whose status enters the likelihood."""
        return int(np.sum(~np.all(self.likelihood == 1.0, axis=(1, 2))))

    @cached_property
    def hazard_edges(self) -> NDArray[np.float64]:
        """The hazard cells' edges, geometric from the first node to the last."""
        return np.geomspace(self.hazards[0], self.hazards[-1], HAZARD_CELLS + 1)

    @cached_property
    def orr_edges(self) -> NDArray[np.float64]:
        """The ORR cells' edges, 0 to the largest ceiling (that of the smallest ratio)."""
        return np.linspace(0.0, float(self.ceilings.max()), CELLS + 1)

    @cached_property
    def hazard_masses(self) -> NDArray[np.float64]:
        """The Gamma(k, k) prior's mass in each hazard cell."""
        return np.diff(stats.gamma.cdf(self.hazard_edges, self.shape, scale=1.0 / self.shape))

    @cached_property
    def cell_ceilings(self) -> NDArray[np.float64]:
        """c(h) at each hazard cell's (geometric) midpoint."""
        mid = np.sqrt(self.hazard_edges[1:] * self.hazard_edges[:-1])
        return np.array([orr_ceiling(self.scenario, float(h)) for h in mid])

    @cached_property
    def table(self) -> NDArray[np.float64]:
        """The likelihood of all the patients on (hazard cell, ORR cell), scaled to a peak of 1; 0 where p > c(h)."""
        return _grid_likelihood(self, self.likelihood)

    @cached_property
    def half_tables(self) -> tuple[NDArray[np.float64], ...]:
        """:attr:`table` from each half of the draws alone (none without halves): the likelihood's own error."""
        return () if self.halves is None else tuple(_grid_likelihood(self, h) for h in self.halves)

    def orr_law(self, prior: BetaMixture) -> OrrPosterior:
        """The ORR's marginal posterior under ``prior``: its likelihood is the grid summed over the ratio's prior."""
        halves = None
        if self.half_tables:
            halves = np.stack([self.hazard_masses @ t for t in self.half_tables])[:, None, :]
        mid = (self.orr_edges[1:] + self.orr_edges[:-1]) / 2.0
        marginal = (self.hazard_masses @ self.table)[None, :]
        ceiling = float(self.orr_edges[-1])
        return OrrPosterior(prior, ceiling, mid, marginal, halves, patients_in_likelihood=self.patients)

    def draw(self, rng: np.random.Generator, patients: PatientModel) -> PatientModel:
        """``patients`` (a replicate's, at its ORR) with the PFS hazard ratio drawn from its posterior given that ORR.

        One uniform: a hazard cell by its posterior mass in the ORR's column, then the prior's
        distribution function inverted within the cell, up to the largest ratio whose ceiling
        carries the ORR (below the cell's upper edge only in the cell where the ceiling crosses it).
        """
        p = float(patients.efficacy.orr)
        weights = self.hazard_masses * self.table[:, self._column(p)]
        cumulative = np.cumsum(weights)
        v = rng.random() * cumulative[-1]
        cell = min(int(np.searchsorted(cumulative, v, side="right")), HAZARD_CELLS - 1)
        share = float(np.clip((v - (cumulative[cell] - weights[cell])) / weights[cell], 0.0, 1.0))
        top = self._largest_ratio(p, float(self.hazard_edges[cell + 1]))
        ends = np.array([self.hazard_edges[cell], max(top, float(self.hazard_edges[cell]))])
        low, high = stats.gamma.cdf(ends, self.shape, scale=1.0 / self.shape)
        h = float(stats.gamma.ppf(low + share * (high - low), self.shape, scale=1.0 / self.shape))
        efficacy = dataclasses.replace(patients.efficacy, pfs=with_hazard_ratio(patients.efficacy.pfs, h))
        return dataclasses.replace(patients, efficacy=efficacy)

    def _column(self, p: float) -> int:
        """The ORR cell holding ``p``, or the nearer neighbour with mass when rounding put ``p`` on an empty edge.

        Raises :class:`PfsError` when no ratio in the range carries ``p`` (the data rule the scenario's
        ORR out at every PFS the range holds: the conditional run cannot be drawn).
        """
        column = min(int(p / self.orr_edges[-1] * CELLS), CELLS - 1)
        for near in (column, column - 1, column + 1):
            inside = p <= self.orr_edges[-1] and 0 <= near < CELLS
            if inside and (self.hazard_masses * self.table[:, near]).sum() > 0:
                return near
        raise PfsError(
            f"forecast.learn_pfs: no PFS hazard ratio from {self.hazards[0]:.3f} to {self.hazards[-1]:.3f} carries an "
            f"ORR of {p:.4f} given the patients' statuses; lower efficacy.orr or revise efficacy.pfs"
        )

    def _largest_ratio(self, p: float, upper: float) -> float:
        """The largest ratio up to ``upper`` whose ceiling carries ORR ``p`` (``upper`` itself when it does)."""
        if p <= 0.0 or orr_ceiling(self.scenario, upper) >= p:
            return upper
        return float(optimize.brentq(lambda h: orr_ceiling(self.scenario, h) - p, 1e-9, upper, xtol=1e-12))

    def summary(self, prior: BetaMixture, table: NDArray[np.float64] | None = None) -> HazardSummary:
        """The ratio's posterior under the ORR ``prior`` (from ``table``, :attr:`table` by default), and the
        scenario's PFS median at its mean and ends."""
        grid = self.table if table is None else table
        mass = self.hazard_masses * (grid @ np.diff(prior.cdf(self.orr_edges)))
        return _summary(self, mass / mass.sum())

    def likelihood_error(self, prior: BetaMixture) -> dict[str, float] | None:
        """Half the gap between the ratio's posteriors from each half of the draws: mean, q05, q95 (None without)."""
        if not self.half_tables:
            return None
        laws = [self.summary(prior, t) for t in self.half_tables]
        return {name: abs(getattr(laws[0], name) - getattr(laws[1], name)) / 2.0 for name in ("mean", "q05", "q95")}

    def __repr__(self) -> str:
        """The prior, the grid and a digest of the likelihood (checkpoints key on it)."""
        digest = hashlib.sha256(self.hazards.tobytes() + self.likelihood.tobytes()).hexdigest()[:16]
        return f"PfsPosterior(shape={self.shape!r}, hazards={self.hazards.tolist()!r}, likelihood={digest})"


def _grid_likelihood(law: PfsPosterior, likelihood: NDArray[np.float64]) -> NDArray[np.float64]:
    """The patients' product of ``likelihood`` on the cells, scaled to a peak of 1: linear in ``x = p / c(h)`` at
    each ratio, then across ratios by :func:`_across_ratios`."""
    mid = np.sqrt(law.hazard_edges[1:] * law.hazard_edges[:-1])
    p = (law.orr_edges[1:] + law.orr_edges[:-1]) / 2.0
    spline = interpolate.CubicSpline(np.log(law.hazards), np.eye(law.hazards.size))(np.log(mid))
    out = np.full((HAZARD_CELLS, CELLS), -np.inf)
    for m, h in enumerate(mid):
        x = p / law.cell_ceilings[m]
        inside = x <= 1.0
        at_nodes = np.stack([_along_orr(likelihood[:, i, :], x[inside]) for i in range(law.hazards.size)])
        values = _across_ratios(law.hazards, at_nodes, float(h), spline[m])
        with np.errstate(divide="ignore"):
            out[m, inside] = np.log(values).sum(axis=0)
    peak = out.max()
    return np.exp(out - peak) if np.isfinite(peak) else np.zeros_like(out)


def _along_orr(rows: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each patient's likelihood at ``x`` (shares of the ceiling), linear between the equally spaced ORR nodes."""
    k = rows.shape[1]
    position = np.minimum(x, 1.0) * (k - 1)
    left = np.minimum(position.astype(int), k - 2)
    frac = position - left
    return np.asarray(rows[:, left] * (1.0 - frac) + rows[:, left + 1] * frac)


def _across_ratios(
    hazards: NDArray[np.float64], at_nodes: NDArray[np.float64], h: float, spline: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The likelihood at ratio ``h`` from its values at the ratios (``at_nodes``, first axis): ``log L`` by a cubic
    spline in ``log h`` (``spline``: its weights on the ratios at ``h``) where every ratio's value is positive,
    else ``L`` linear between the two around ``h``.

    The spline is within 0.4% of both closed forms of tests/test_forecast_pfs.py (a patient still
    progression-free, ``-h H(t)``; one who progressed, ``log(S(a)^h - S(b)^h)``); linear
    interpolation was up to 8% off between the ratios.
    """
    j = min(int(np.searchsorted(hazards, h, side="right")) - 1, hazards.size - 2)
    w = (h - hazards[j]) / (hazards[j + 1] - hazards[j])
    linear = (1.0 - w) * at_nodes[j] + w * at_nodes[j + 1]
    positive = np.all(at_nodes > 0, axis=0)
    logs = np.tensordot(spline, np.log(np.where(positive, at_nodes, 1.0)), axes=1)
    return np.where(positive, np.exp(logs), linear)


def _summary(law: PfsPosterior, mass: NDArray[np.float64]) -> HazardSummary:
    """Mean, 5% and 95% quantiles of the ratio from its cells' masses (within a cell, its prior's shape)."""
    edges, k = law.hazard_edges, law.shape
    first_moment = np.diff(stats.gamma.cdf(edges, k + 1, scale=1.0 / k))  # E[h; cell] = P_{k+1}(cell) for Gamma(k, k)
    mean = float(np.sum(mass * first_moment / law.hazard_masses))
    cumulative = np.concatenate(([0.0], np.cumsum(mass)))

    def quantile(q: float) -> float:
        cell = min(max(int(np.searchsorted(cumulative, q, side="left")) - 1, 0), HAZARD_CELLS - 1)
        share = (q - cumulative[cell]) / mass[cell] if mass[cell] > 0 else 0.5
        low, high = stats.gamma.cdf(edges[cell : cell + 2], k, scale=1.0 / k)
        return float(stats.gamma.ppf(low + share * (high - low), k, scale=1.0 / k))

    q05, q95 = quantile(0.05), quantile(0.95)
    pfs = pfs_at(law.scenario.efficacy, law.scenario.efficacy.orr)
    medians = tuple(float(with_hazard_ratio(pfs, h).median) for h in (mean, q05, q95))
    edge = float(mass[:EDGE_CELLS].sum() + mass[-EDGE_CELLS:].sum())
    return HazardSummary(mean, q05, q95, (medians[0], medians[1], medians[2]), edge)


def hazard_nodes(model: TrialModel) -> NDArray[np.float64]:
    """The ratios the likelihood is estimated at: geometric over the prior's central ``1 - 2 PRIOR_TAIL``."""
    shape = prior_shape(model)
    ends = stats.gamma.ppf([PRIOR_TAIL, 1.0 - PRIOR_TAIL], shape, scale=1.0 / shape)
    return np.geomspace(float(ends[0]), float(ends[1]), HAZARD_NODES)


def grid_models(model: TrialModel, hazards: NDArray[np.float64]) -> list[PatientModel]:
    """The patient models of the likelihood's grid, row after row: at each ratio, NODES ORRs on [0, c(h)]."""
    return [
        model.with_orr(float(orr_ceiling(model.scenario, float(h)) * x), float(h))
        for h in hazards
        for x in np.linspace(0.0, 1.0, NODES)
    ]


def pfs_posterior(
    model: TrialModel,
    state: TrialState,
    target: int = LIKELIHOOD_MATCHES,
    cap: int = MAX_CANDIDATES,
    seed: int = SEED,
    spread: Spread = serially,
) -> PfsPosterior:
    """The joint posterior of the ORR and the PFS hazard ratio given the statuses in ``state`` (module docstring).

    Without any known status the likelihood is 1 everywhere and nothing is drawn: the prior
    restricted to the pairs the model can carry. ``target``, ``cap``, ``seed`` and ``spread`` are the
    likelihood's, as for :func:`~.orr_posterior.status_posterior`.
    """
    hazards = hazard_nodes(model)
    ceilings = np.array([orr_ceiling(model.scenario, float(h)) for h in hazards])
    n, shape = state.n_enrolled, prior_shape(model)
    if not state.outcomes.conditioned.any():
        return PfsPosterior(model.scenario, shape, hazards, ceilings, np.ones((n, HAZARD_NODES, NODES)))
    pooled, halves = statuses_likelihood(
        grid_models(model, hazards), state, target, cap, seed, rows=HAZARD_NODES, spread=spread
    )
    grid = (n, HAZARD_NODES, NODES)
    return PfsPosterior(model.scenario, shape, hazards, ceilings, pooled.reshape(grid), halves.reshape(2, *grid))


EDGE_NOTE = 0.01
"""Posterior mass in the range's end cells above which the forecast says the data sit at the end of the range."""


def pfs_document(law: PfsPosterior, prior: BetaMixture) -> dict[str, object]:
    """The PFS hazard ratio's posterior under the forecast's ORR prior, its PFS medians and its own error (JSON)."""
    s = law.summary(prior)
    return {
        "hazard_ratio": {"mean": s.mean, "q05": s.q05, "q95": s.q95},
        "pfs_median_months": dict(zip(("at_mean", "at_q05", "at_q95"), s.median_months)),
        "prior": {"shape": law.shape, "rate": law.shape},
        "range": [float(law.hazards[0]), float(law.hazards[-1])],
        "mass_at_range_ends": s.edge_mass,
        "patients_in_likelihood": law.patients,
        "likelihood_error": law.likelihood_error(prior),
    }


def pfs_lines(law: PfsPosterior, prior: BetaMixture) -> list[str]:
    """The PFS hazard ratio's posterior in words (one line), with the PFS median it implies."""
    s = law.summary(prior)
    low, high = s.median_months[2], s.median_months[1]
    return [
        f"  PFS hazard ratio (learned) {s.mean:.2f} (90% interval {s.q05:.2f} to {s.q95:.2f}; prior "
        f"Gamma({law.shape:.2f}, {law.shape:.2f})): latent PFS median {s.median_months[0]:.2f} months "
        f"({low:.2f} to {high:.2f})"
    ]


def pfs_notes(law: PfsPosterior, prior: BetaMixture) -> tuple[str, ...]:
    """A note when the ratio's posterior piles up at an end of its range: the data are far from the scenario's PFS."""
    s = law.summary(prior)
    if s.edge_mass <= EDGE_NOTE:
        return ()
    return (
        f"the PFS hazard ratio's posterior has {s.edge_mass:.1%} of its mass at the ends of its range "
        f"({law.hazards[0]:.2f} to {law.hazards[-1]:.2f}, the prior's central {1 - 2 * PRIOR_TAIL:.1%}): the data "
        "are far from efficacy.pfs; revise it, or raise forecast.hazard_prior_months' weight only if the planned PFS "
        "is well founded",
    )
