"""The cheap figures that screen every candidate design of a recruitment setting in one pass.

Two quantities carry a single-arm trial's operating characteristics, and both can be had for every
sample size at once:

* **When the decision falls.** Enrollment to a larger target is the same as to a smaller one up to
  the smaller target, so one set of recruitment replicates at the largest sample size gives the
  enrollment and first-dose day of every patient, and so the primary cutoff of a trial of any size
  ``n`` (the trial that closes short analyses whoever it has). The vector engine simulates them.
* **What a patient contributes.** The exact test counts confirmed responders among the analysed
  patients; the tested rate ``theta(p)`` is the chance that an analysed patient counts, at latent
  ORR ``p``. With ``P(responder) = p`` known exactly, ``theta(p) = p P(confirmed and analysed |
  responder) / P(analysed)``; both probabilities are estimated from patients drawn by the patient
  model and followed from their first dose to the cutoff the recruitment replicates give. In an
  idealised trial (no dropout, every response confirmed) both are 1 and ``theta(p) = p`` exactly.

The exact binomial power of each design at ``theta(p1)`` (its type I error at ``p0``, as the test
controls it), averaged over the number of patients the trial analyses (the recruitment replicates
give how many it enrolls by the close, and each is analysed with the probability the drawn patients
give: all of them for every treated patient, fewer for the evaluable ones), and the share of
recruitment replicates that decide by the deadline screen the grid.
Only the shortlist is simulated in full (:mod:`sim.sizing.search`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from ..engines.vector import VECTOR_ENGINE
from ..model.journey import plan_journeys
from ..model.trial_model import TrialModel, orr_ceiling, orr_prior_law
from ..scenario.model import Monitoring, Scenario
from ..stats.beta_mixture import BetaMixture
from ..stats.survival_batch import padded_rows
from ..units import DAYS_PER_MONTH

__all__ = ["SIZE_STREAM", "SettingScreen", "screen_setting"]

SIZE_STREAM = 0x73697A65
"""First spawn key of the screening streams ("size"), apart from every engine's."""


@dataclass(frozen=True)
class SettingScreen:
    """One recruitment setting, screened: its tested rates and the decision day of every sample size.

    ``decision_day[r, n - 1]`` is the primary cutoff of recruitment replicate ``r`` for a trial of
    ``n`` patients (days from the study start; NaN when nobody enrolled, or for a cutoff by events,
    which this screen does not predict).
    """

    setting: dict[str, str]
    scenario: Scenario
    theta1: float
    theta0: float
    decision_day: NDArray[np.float64]
    open_day: float
    enrolled: NDArray[np.int64]
    analysed_share: float = 1.0
    p1: float = math.nan
    prior: BetaMixture | None = None
    ceiling: float = 1.0

    def analysed_counts(self, n: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The patients a trial of ``n`` analyses, and the probability of each count (zero left out).

        A trial that closes short has fewer enrolled; of ``k`` enrolled, each is analysed with
        probability ``analysed_share`` (1 for every treated patient), so the count is Binomial(k, share).
        """
        k = np.minimum(self.enrolled, n)
        enrolled = np.bincount(k, minlength=n + 1) / max(k.shape[0], 1)
        m = np.arange(n + 1)
        share = min(max(self.analysed_share, 0.0), 1.0)
        analysed = np.sum(enrolled[:, None] * stats.binom.pmf(m[None, :], m[:, None], share), axis=0)
        present = np.flatnonzero(analysed[1:] > 0) + 1
        return present, analysed[present]

    def p_on_time(self, n: int, deadline_day: float) -> float:
        """Share of recruitment replicates whose n-patient trial decides by ``deadline_day`` (1 if not predicted)."""
        days = self.decision_day[:, n - 1]
        if np.isnan(days).all():
            return 1.0
        return float(np.mean(days <= deadline_day))

    def months_to_decision(self, n: int) -> float:
        """Mean months from recruitment opening to the primary cutoff of an n-patient trial."""
        days = self.decision_day[:, n - 1]
        return float(np.nanmean(days - self.open_day) / DAYS_PER_MONTH) if np.isfinite(days).any() else math.nan


def _recruitment_model(scenario: Scenario, n_max: int) -> TrialModel:
    """The setting's model at the largest sample size, single stage, at the point ORR: recruitment only."""
    single = dataclasses.replace(
        scenario,
        trial=dataclasses.replace(scenario.trial, sample_size=n_max),
        monitoring=Monitoring(),
        efficacy=dataclasses.replace(scenario.efficacy, orr_prior=None),
    )
    return TrialModel.from_scenario(single)


def _decision_days(
    model: TrialModel, first_dose: NDArray[np.float64], enrolled: NDArray[np.int64]
) -> NDArray[np.float64]:
    """``decision_day[r, n - 1]`` from each replicate's first-dose days (enrollment order, NaN padded)."""
    n_max = first_dose.shape[1]
    rule = model.scenario.analysis.primary_cutoff
    if rule.rule == "date":
        assert rule.date is not None
        day = min(float((rule.date - model.scenario.trial.study_start).days), model.horizon_day)
        out = np.full(first_dose.shape, day)
    elif rule.rule == "after_last_first_dose":
        assert rule.months is not None
        last = np.fmax.accumulate(np.where(np.isnan(first_dose), -np.inf, first_dose), axis=1)
        # a trial of n that closes short with k < n patients analyses those k
        k = np.minimum(np.arange(1, n_max + 1)[None, :], enrolled[:, None])
        taken = np.take_along_axis(last, np.maximum(k - 1, 0), axis=1)
        out = np.minimum(taken + rule.months * DAYS_PER_MONTH, model.horizon_day)
        out[k == 0] = np.nan
    else:  # a cutoff by deaths depends on the outcomes: left to the full simulation
        out = np.full(first_dose.shape, np.nan)
    return out


def _tested_rate(
    model: TrialModel, p: float, follow_up: NDArray[np.float64], rng: np.random.Generator
) -> tuple[float, float]:
    """theta(p), the chance an analysed patient counts as a confirmed responder (module docstring), and
    the share of enrolled patients analysed."""
    patients = model.with_orr(p)
    latent = patients.draw(rng, follow_up.shape[0])
    journeys = plan_journeys(patients, latent)
    if model.scenario.analysis.population == "evaluable":
        analysed = journeys.evaluable & (journeys.evaluability_day <= follow_up)
    else:
        analysed = follow_up >= 0
    counted = latent.responder & (journeys.confirmation_day <= follow_up) & analysed
    share = float(analysed.mean()) if analysed.size else 0.0
    if not latent.responder.any() or share == 0:
        return 0.0, share
    return p * float(counted[latent.responder].mean()) / share, share


def screen_setting(
    setting: dict[str, str], scenario: Scenario, n_max: int, p1: float, replicates: int, seed: int, index: int
) -> SettingScreen:
    """Screen one recruitment setting (module docstring); ``index`` numbers its random streams."""
    model = _recruitment_model(scenario, n_max)
    batch = VECTOR_ENGINE.histories(model, seed, 0, replicates)
    first_dose = padded_rows(batch.first_dose_day, batch.patients, np.nan)
    if first_dose.shape[1] < n_max:
        first_dose = np.pad(first_dose, ((0, 0), (0, n_max - first_dose.shape[1])), constant_values=np.nan)
    decision = _decision_days(model, first_dose, batch.patients)
    n_plan = min(scenario.trial.sample_size, n_max)
    cutoff = decision[:, n_plan - 1]
    cutoff = np.where(np.isnan(cutoff), model.horizon_day, cutoff)  # by events: follow each patient to the end
    follow_up = (cutoff[:, None] - first_dose[:, :n_plan])[~np.isnan(first_dose[:, :n_plan])]
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(SIZE_STREAM, index)))
    theta1, analysed_share = _tested_rate(model, p1, follow_up, rng)
    return SettingScreen(
        setting=setting,
        scenario=scenario,
        theta1=theta1,
        theta0=_tested_rate(model, scenario.analysis.p0, follow_up, rng)[0],
        analysed_share=analysed_share,
        p1=p1,
        prior=None if scenario.efficacy.orr_prior is None else orr_prior_law(scenario.efficacy.orr_prior),
        ceiling=orr_ceiling(scenario),
        decision_day=decision,
        open_day=model.open_day,
        enrolled=batch.patients.astype(np.int64),
    )
