"""A forecast's start in the SimPy engine: the enrolled patients' first doses and who is in screening.

The SimPy engine declares that it forecasts (:class:`sim.engines.des.DesEngine`); what it draws at
the as-of date, beyond the conditioned patients (:mod:`sim.model.conditioning`), is here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..model.recruitment import pending_screening_ends, site_rates
from ..model.trial_model import TrialModel
from ..model.trial_state import TrialState

__all__ = ["first_doses", "patients_in_screening"]


def first_doses(model: TrialModel, state: TrialState, rng: np.random.Generator) -> NDArray[np.float64]:
    """First-dose days: as recorded, or for a patient not yet dosed, drawn after the as-of date.

    The delay from enrollment is uniform on the scenario's whole days, so given that no dose came
    by the as-of date it is uniform on the days still possible (the forecast checked there are some).
    """
    low, high = model.scenario.recruitment.enrollment_to_first_dose_days
    waiting = np.isnan(state.first_dose_day)
    earliest = np.maximum(low, np.ceil(state.as_of_day - state.enrollment_day[waiting]))
    drawn = state.enrollment_day[waiting] + rng.integers(earliest.astype(np.int64), high + 1)
    out = state.first_dose_day.copy()
    out[waiting] = drawn
    return out


def patients_in_screening(
    model: TrialModel, state: TrialState, rng: np.random.Generator
) -> list[tuple[int, float, float, int]]:
    """(site, consent day, screening end, days to first dose) of each patient in screening at the as-of date.

    Only sites with screening counts have them (``state.pending``); their consent and screening
    end are drawn given that screening had not ended by the as-of date.
    """
    if state.pending is None:
        return []
    rec = model.scenario.recruitment
    low, high = rec.enrollment_to_first_dose_days
    out = []
    for index, site in enumerate(rec.sites):
        count = int(state.pending[index])
        if count <= 0:
            continue
        rates = site_rates(site, index, model.scenario.trial.study_start, model.open_day, 0.0, rng)
        consent, ends = pending_screening_ends(rates, model.calendar, state.as_of_day, rec.screening_days, count, rng)
        delays = rng.integers(low, high + 1, count).tolist()
        out += [(index, c, e, d) for c, e, d in zip(consent.tolist(), ends.tolist(), delays)]
    return out
