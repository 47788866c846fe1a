"""A running trial as it stands at its as-of date: the state a forecast starts the engine from.

Pure data, built by :mod:`sim.forecast` from the observed patients and checked there; the SimPy
engine (:func:`sim.engines.des.simulate_trial`) starts from it, and :mod:`sim.model.conditioning` draws each
enrolled patient's future given what is known of them. Days count from the study start.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..stats.beta_mixture import BetaMixture
from .patient_model import PatientModel

__all__ = ["HazardLaw", "KnownOutcomes", "OrrLaw", "RatePosterior", "TrialState", "UNKNOWN"]

UNKNOWN = -1
"""The code of an outcome the data do not give (outcome columns absent from the file)."""


class HazardLaw(Protocol):
    """The forecast's posterior of the hazards the data inform: it gives each replicate its own patient model."""

    def draw(self, rng: np.random.Generator, patients: PatientModel) -> PatientModel:
        """``patients`` with the learned hazards drawn from their posteriors."""
        ...


class OrrLaw(Protocol):
    """A law of the true ORR a replicate draws from: a Beta mixture, or the forecast's posterior given the statuses."""

    def draw(self, u: ArrayLike, ceiling: float) -> NDArray[np.float64]:
        """True ORRs from uniforms ``u``, below ``ceiling``."""
        ...


@dataclass(frozen=True)
class KnownOutcomes:
    """What the database holds for each enrolled patient at the as-of date, one row per patient.

    ``best_scan`` is the best reading of any scan so far as a :class:`~sim.model.recist.Response` code
    (NO_SCAN before the first scan), ``confirmed`` whether the response is confirmed,
    ``progressed`` and ``dead`` whether progression or death has been recorded, ``end_reason``
    the index in :data:`sim.model.journey.END_REASONS` of why treatment ended (-1 while on treatment).
    ``last_scan_day``, ``progression_day`` and ``death_day`` are the recorded days of the last scan,
    of progression and of death (from study start; NaN, or None for all, where the file gives none).
    A row whose ``best_scan`` is :data:`UNKNOWN` is conditioned on nothing (a patient not yet dosed,
    or a file without outcome columns).
    """

    best_scan: NDArray[np.int8]
    confirmed: NDArray[np.bool_]
    progressed: NDArray[np.bool_]
    dead: NDArray[np.bool_]
    end_reason: NDArray[np.int8]
    last_scan_day: NDArray[np.float64] | None = None
    progression_day: NDArray[np.float64] | None = None
    death_day: NDArray[np.float64] | None = None

    @property
    def conditioned(self) -> NDArray[np.bool_]:
        """Patients whose outcomes are known (and so conditioned on)."""
        return np.asarray(self.best_scan != UNKNOWN)

    def day(self, name: str) -> NDArray[np.float64]:
        """The recorded day (from study start) of ``last_scan``, ``progression`` or ``death``; NaN if not recorded."""
        days = getattr(self, f"{name}_day")
        return np.full(self.best_scan.shape[0], np.nan) if days is None else np.asarray(days, dtype=float)


@dataclass(frozen=True)
class RatePosterior:
    """Gamma(``shape``, ``rate``) law of each site's rate multiplier (mean 1 a priori).

    An infinite shape means the multiplier is known to be 1 (``rate_cv = 0`` and no vague prior,
    or a vague prior on a site not yet active): nothing is drawn.
    """

    shape: NDArray[np.float64]
    rate: NDArray[np.float64]

    def mean(self) -> NDArray[np.float64]:
        """Posterior mean of each site's multiplier."""
        return np.where(np.isinf(self.shape), 1.0, self.shape / self.rate)


@dataclass(frozen=True)
class TrialState:
    """The trial at the end of its as-of date: enrolled patients, what is known of them, the sites' rates.

    ``first_dose_day`` is NaN for a patient not yet dosed (the engine draws it after the as-of
    date). ``resume_day`` is where the engine starts drawing screening arrivals: early enough
    that patients still in screening at the as-of date are drawn too (arrivals that would have
    finished screening before it are already in the data, and are dropped). ``orr_posterior``
    (the ORR's law given every patient's status so far) makes each replicate draw its latent ORR
    from it, truncated below ``orr_ceiling``; None keeps the scenario's point ORR (the conditional
    power), whatever prior the scenario gives. With
    screening counts, ``pending`` gives each site's eligible patients still in screening (-1
    where the site's counts are not known, whose pending patients are drawn from its arrivals
    instead) and ``screen_failure`` the Beta law each replicate draws its screen-failure
    probability from. ``looks_held`` gives the responders each interim look already held counted
    (the trial went on after each); the engine runs only the looks after them. ``hazards``, when
    given, draws each replicate's withdrawal, loss and post-progression death hazards, and
    ``pfs_hazard`` its PFS hazard ratio given its ORR (after the ORR and those hazards). A site
    planned to activate after the as-of date activates up to ``activation_delay_days`` late.
    """

    as_of_day: float
    resume_day: float
    patient_id: tuple[str, ...]
    site: NDArray[np.int64]
    enrollment_day: NDArray[np.float64]
    first_dose_day: NDArray[np.float64]
    outcomes: KnownOutcomes
    rates: RatePosterior
    enrollment_complete_day: float
    orr_posterior: BetaMixture | OrrLaw | None = None
    orr_ceiling: float = 1.0
    pending: NDArray[np.int64] | None = None
    screen_failure: tuple[float, float] | None = None
    looks_held: tuple[int, ...] = ()
    hazards: HazardLaw | None = None
    activation_delay_days: int = 0
    pfs_hazard: HazardLaw | None = None

    @property
    def n_enrolled(self) -> int:
        """Patients enrolled by the as-of date."""
        return int(self.site.shape[0])

    @property
    def identity(self) -> str:
        """Everything the forecast's replicates depend on, as a digest (for checkpoints)."""
        digest = hashlib.sha256()
        for item in (self, self.outcomes, self.rates):
            for f in fields(item):
                value = getattr(item, f.name)
                if isinstance(value, np.ndarray):
                    digest.update(f.name.encode() + value.tobytes())
                elif not isinstance(value, (KnownOutcomes, RatePosterior)) and value is not None:
                    digest.update(f"{f.name}={value!r}".encode())
        return digest.hexdigest()
