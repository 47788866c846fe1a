"""The ORR's posterior given every enrolled patient's status: the prior times the likelihood of the statuses.

Under the patient model a patient's status at the as-of date (best scan so far, confirmed or not,
progressed, dead, treatment ended and why) has a probability ``L_i(p)`` that depends on the true
ORR ``p``: not only through whether the patient is a responder, but through everything the ORR
moves (a responder's PFS law, the non-responders' PFS law that keeps the marginal PFS fixed, and
the PFS itself under ``efficacy.pfs_orr_link``). The posterior is therefore

    pi(p | data)  proportional to  pi(p) * prod_i L_i(p),   0 <= p <= c (the ORR ceiling).

A patient in stable disease for ten months is almost surely a non-responder under the model's own
time to response, so ``L_i`` falls steeply in ``p``; leaving such patients out (as the Beta update
on settled patients alone did) overstates the ORR.

``L_i`` is estimated at :data:`NODES` equally spaced ORRs on ``[0, c]`` by the forecast's own
conditioning machinery (:func:`sim.model.status_likelihood.status_probabilities`), and interpolated
linearly between them. Each patient has their own draws, until each node's estimate rests on
about 400 matches: the patients' errors are independent and each a few percent. The draws come
in two independent halves; the posterior from each half alone measures the likelihood's own
Monte Carlo error (:meth:`OrrPosterior.likelihood_error`). The posterior is then exact given
those values: the interval is cut into :data:`CELLS` cells, each prior component restricted to a
cell is weighted by its mass there times the likelihood at the cell's midpoint, and a draw picks a
(component, cell) pair by those weights and inverts the component's distribution function within
the cell. One uniform per draw, like :meth:`sim.stats.beta_mixture.BetaMixture.draw`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from ..model.conditioning import MAX_CANDIDATES
from ..model.patient_model import PatientModel
from ..model.status_likelihood import LIKELIHOOD_MATCHES, Spread, serially, status_probabilities
from ..model.trial_model import TrialModel
from ..model.trial_state import TrialState
from ..stats.beta_mixture import BetaMixture

__all__ = ["CELLS", "NODES", "OrrPosterior", "status_posterior", "statuses_likelihood"]

SEED = 20_260_026
"""The likelihood's own seed: a numerical integral, the same for every run seed."""

NODES = 17
"""ORRs on [0, ceiling] at which each patient's likelihood is estimated."""

CELLS = 2000
"""Cells of [0, ceiling] on which the likelihood is taken as constant (at its midpoint value)."""


@dataclass(frozen=True, eq=False, repr=False)
class OrrPosterior:
    """The ORR prior (a Beta mixture) times the likelihood of the patients' statuses, on ``[0, ceiling]``.

    ``likelihood`` has one row per patient (all ones for a patient whose status is not known) and
    one column per ``nodes`` ORR. ``halves``, when given, holds the same from each of two
    independent halves of the draws (shape (2, patients, nodes)). ``patients_in_likelihood``
    counts the patients when ``likelihood`` is already their product (one row: the ORR's margin of
    :class:`~.pfs_posterior.PfsPosterior`).
    """

    prior: BetaMixture
    ceiling: float
    nodes: NDArray[np.float64]
    likelihood: NDArray[np.float64]
    halves: NDArray[np.float64] | None = None
    patients_in_likelihood: int | None = None

    def __post_init__(self) -> None:
        if self.likelihood.ndim != 2 or self.likelihood.shape[1] != self.nodes.shape[0]:
            raise ValueError("the likelihood needs one column per node")
        if not np.all(np.isfinite(self.likelihood)) or self.likelihood.min(initial=0.0) < 0:
            raise ValueError("likelihood values must be finite and non-negative")
        if self._masses.sum() <= 0:
            raise ValueError("the likelihood is zero wherever the prior has mass")

    @cached_property
    def edges(self) -> NDArray[np.float64]:
        """The cells' edges, 0 to the ceiling."""
        return np.linspace(0.0, self.ceiling, CELLS + 1)

    @cached_property
    def cell_likelihood(self) -> NDArray[np.float64]:
        """The likelihood of all the patients at each cell's midpoint: each patient's interpolated, multiplied."""
        mid = (self.edges[1:] + self.edges[:-1]) / 2.0
        log = np.zeros(CELLS)
        for row in self.likelihood:
            with np.errstate(divide="ignore"):
                log += np.log(np.interp(mid, self.nodes, row))
        return np.exp(log - log.max()) if np.isfinite(log.max()) else np.zeros(CELLS)

    @cached_property
    def _prior_cdf(self) -> NDArray[np.float64]:
        """Each prior component's distribution function at the edges (components by rows)."""
        return np.array([stats.beta.cdf(self.edges, a, b) for a, b in zip(self.prior.a, self.prior.b)])

    @cached_property
    def _masses(self) -> NDArray[np.float64]:
        """Posterior mass (unnormalised) of each (component, cell)."""
        weights = np.asarray(self.prior.weights)[:, None]
        return weights * np.diff(self._prior_cdf, axis=1) * self.cell_likelihood[None, :]

    @property
    def patients(self) -> int:
        """Patients whose status enters the likelihood."""
        if self.patients_in_likelihood is not None:
            return self.patients_in_likelihood
        return int(np.sum(~np.all(self.likelihood == 1.0, axis=1)))

    def draw(self, u: ArrayLike, ceiling: float) -> NDArray[np.float64]:
        """True ORRs from uniforms ``u``: a (component, cell) by posterior mass, then the component within the cell."""
        if not np.isclose(ceiling, self.ceiling, rtol=0.0, atol=1e-12):
            raise ValueError(f"this posterior is on [0, {self.ceiling!r}], not [0, {ceiling!r}]")
        u = np.asarray(u, dtype=float)
        masses = self._masses.ravel()
        having = np.flatnonzero(masses > 0)  # only cells with mass can be picked, whatever the rounding
        cumulative = np.cumsum(masses[having])
        v = u * cumulative[-1]
        which = np.minimum(np.searchsorted(cumulative, v, side="right"), having.size - 1)
        pick = having[which]
        share = np.clip((v - (cumulative[which] - masses[pick])) / masses[pick], 0.0, 1.0)
        component, cell = np.divmod(pick, CELLS)
        low, high = self._prior_cdf[component, cell], self._prior_cdf[component, cell + 1]
        a, b = np.asarray(self.prior.a)[component], np.asarray(self.prior.b)[component]
        p = stats.beta.ppf(low + share * (high - low), a, b)
        return np.asarray(np.clip(p, self.edges[cell], self.edges[cell + 1]))

    def mean(self) -> float:
        """E[p | data]: per cell, the prior component's mean over the cell times the cell's weight."""
        a, b = np.asarray(self.prior.a)[:, None], np.asarray(self.prior.b)[:, None]
        upper = stats.beta.cdf(self.edges[None, :], a + 1, b)
        first_moment = np.asarray(self.prior.weights)[:, None] * a / (a + b) * np.diff(upper, axis=1)
        return float(np.sum(first_moment * self.cell_likelihood[None, :]) / self._masses.sum())

    def cdf(self, x: ArrayLike) -> NDArray[np.float64]:
        """P(p <= x | data): the cells below x, and within x's cell the prior's own shape."""
        x = np.clip(np.asarray(x, dtype=float), 0.0, self.ceiling)
        per_cell = self._masses.sum(axis=0)
        before = np.concatenate(([0.0], np.cumsum(per_cell)))
        cell = np.minimum(np.searchsorted(self.edges, x, side="right") - 1, CELLS - 1)
        weights = np.asarray(self.prior.weights)
        within = sum(
            w * (stats.beta.cdf(x, a, b) - cdf_k[cell])
            for w, a, b, cdf_k in zip(weights, self.prior.a, self.prior.b, self._prior_cdf)
        )
        return np.asarray((before[cell] + within * self.cell_likelihood[cell]) / before[-1])

    def quantile(self, q: float) -> float:
        """The ``q`` quantile: the root of the distribution function within the cell that holds it."""
        if q <= 0.0 or q >= 1.0:
            return 0.0 if q <= 0.0 else self.ceiling
        per_cell = self._masses.sum(axis=0)
        at_edges = np.concatenate(([0.0], np.cumsum(per_cell))) / per_cell.sum()
        cell = min(max(int(np.searchsorted(at_edges, q, side="left")) - 1, 0), CELLS - 1)
        low, high = self.edges[cell], self.edges[cell + 1]
        return float(optimize.brentq(lambda x: float(self.cdf(x)) - q, low, high, xtol=1e-14))

    def describe(self) -> str:
        """The law in words: the prior, the patients in the likelihood, the posterior mean and 90% interval."""
        return (
            f"{self.prior.describe()} x the likelihood of {self.patients} patients' statuses: mean {self.mean():.3f}, "
            f"90% interval {self.quantile(0.05):.3f} to {self.quantile(0.95):.3f}"
        )

    def likelihood_error(self) -> dict[str, float] | None:
        """Half the gap between the posteriors from each half of the likelihood's draws: mean, q05, q95.

        The two halves are independent estimates, so half their gap is the order of the pooled
        estimate's own Monte Carlo error (its expected value is 0.56 of each half's SE, 0.8 of the pooled one's).
        None without halves.
        """
        if self.halves is None:
            return None
        laws = [dataclasses.replace(self, likelihood=h, halves=None) for h in self.halves]
        return {
            "mean": abs(laws[0].mean() - laws[1].mean()) / 2.0,
            "q05": abs(laws[0].quantile(0.05) - laws[1].quantile(0.05)) / 2.0,
            "q95": abs(laws[0].quantile(0.95) - laws[1].quantile(0.95)) / 2.0,
        }

    def __repr__(self) -> str:
        """The prior, the ceiling and a digest of the likelihood (checkpoints key on it)."""
        digest = hashlib.sha256(self.nodes.tobytes() + self.likelihood.tobytes()).hexdigest()[:16]
        return f"OrrPosterior(prior={self.prior!r}, ceiling={self.ceiling!r}, likelihood={digest})"


def status_posterior(
    prior: BetaMixture,
    model: TrialModel,
    state: TrialState,
    nodes: int = NODES,
    target: int = LIKELIHOOD_MATCHES,
    cap: int = MAX_CANDIDATES,
    seed: int = SEED,
    spread: Spread = serially,
) -> BetaMixture | OrrPosterior:
    """The ORR's posterior given the statuses in ``state``; the prior itself when no status is known.

    Returning the prior unchanged keeps a forecast with nothing observed drawing exactly the
    replicates of the assurance run (tests/test_assurance.py). ``nodes``, ``target`` (matches per
    node) and ``cap`` (draws per node) set the likelihood's resolution; ``seed`` its draws (a
    calibration study varies it from trial to trial, so that the likelihood's errors are independent
    across trials); ``spread`` where its patients run (:data:`~sim.model.status_likelihood.Spread`; the
    result is the same wherever). Raises :class:`~sim.model.conditioning.ConditioningError` naming a patient whose
    status no draw matches at some ORR between two that it does.
    """
    if not state.outcomes.conditioned.any():
        return prior
    orrs = np.linspace(0.0, state.orr_ceiling, nodes)
    models = [model.with_orr(float(p)) for p in orrs]
    pooled, halves = statuses_likelihood(models, state, target, cap, seed, spread=spread)
    return OrrPosterior(prior, state.orr_ceiling, orrs, pooled, halves)


def statuses_likelihood(
    models: list[PatientModel],
    state: TrialState,
    target: int,
    cap: int,
    seed: int,
    rows: int = 1,
    spread: Spread = serially,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each patient's status probability under each of ``models`` (a grid of ``rows`` rows), both halves pooled,
    and from each half alone (the likelihood's own error): :func:`status_probabilities` on ``state``, its
    patients' halves run by ``spread``."""
    estimate = status_probabilities(
        models,
        state.outcomes,
        state.first_dose_day,
        state.as_of_day,
        seed,
        target=target,
        cap=cap,
        patient_id=state.patient_id,
        rows=rows,
        spread=spread,
    )
    return estimate.estimate(), np.stack([estimate.estimate(0), estimate.estimate(1)])
