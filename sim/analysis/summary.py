"""Operating characteristics of a run: power, timeline and ORR precision, each with its MCSE.

Numbers only: :meth:`OperatingCharacteristics.table` and ``to_dict`` hold them; :mod:`sim.reports`
renders them as text.

The ORR is judged against two targets (``docs/model.md``, "Estimand"). The latent ORR
(``efficacy.orr``) is the response probability of a patient who stays long enough to be
confirmed. The tested rate is what the exact test sees: the expected share of analysed patients
counted as confirmed responders, estimated as the mean over replicates of ``responders /
n_analysed``. Dropout before confirmation puts it below the latent ORR. The ORR estimate is
unbiased for the tested rate by construction (the tested rate is its mean), so the bias against
the latent ORR is the gap between the two; coverage is reported against both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..scenario.model import Scenario
from ..stats.mcse import Estimate, estimate_json, json_number, mean_estimate, proportion_estimate, quantile_estimate
from .decision_timing import DecisionTiming
from .decisions import DecisionFigures

__all__ = ["OperatingCharacteristics", "TIMELINE_COLUMNS", "QUANTILES"]

TIMELINE_COLUMNS = {
    "last_patient_in": "last_patient_in_date",
    "primary_cutoff": "primary_cutoff_date",
    "final_cutoff": "final_cutoff_date",
}
QUANTILES = (0.1, 0.5, 0.9)


def _days(dates: pd.Series, origin: dt.date) -> np.ndarray:
    """Dates as days since ``origin`` (NaN for missing), so quantiles and MCSEs are in days."""
    values = pd.to_datetime(dates).to_numpy(dtype="datetime64[D]")
    out = (values - np.datetime64(origin, "D")).astype("timedelta64[D]").astype(float)
    out[np.isnat(values)] = math.nan
    return out


def _medians(table: pd.DataFrame, endpoint: str) -> np.ndarray:
    """Each trial's Kaplan-Meier median of ``endpoint`` (NaN where it was not reached)."""
    return table[f"median_{endpoint}_months"].to_numpy(dtype=float)


def _reached(table: pd.DataFrame, endpoint: str) -> np.ndarray:
    """The medians that were reached (a quantile over them needs at least one)."""
    values = _medians(table, endpoint)
    values = values[np.isfinite(values)]
    return values if values.size else np.array([math.nan])


def _iso(origin: dt.date, days: float) -> str | None:
    if not math.isfinite(days):
        return None
    return (origin + dt.timedelta(days=int(round(days)))).isoformat()


@dataclass(frozen=True)
class OperatingCharacteristics:
    """What a steering committee reads from a run; built from the replicate table alone."""

    scenario_name: str
    replicates: int
    monitored: bool
    true_orr: float
    power: Estimate
    early_stop: Estimate
    interim_wait_days: Estimate
    decision_months: Estimate
    enrollment_complete: Estimate  # P(target met by recruitment close) among the trials not stopped at a look
    target_reached: Estimate  # P(target met by recruitment close) among all trials, by the date it was met
    timeline: dict[str, dict[float, Estimate]]
    orr_mean: Estimate
    orr_bias: Estimate
    ci_width_median: Estimate
    ci_width_mean: Estimate
    coverage: Estimate
    orr_unconfirmed: Estimate
    tested_rate: Estimate
    coverage_of_tested: Estimate
    n_analysed: Estimate
    n_enrolled: Estimate
    ae_discontinuation_rate: Estimate
    median_pfs: Estimate
    median_os: Estimate
    origin: dt.date
    decisions: DecisionFigures
    # per endpoint ("pfs", "os"): P(the trial's KM median is reached), and quantiles of the medians reached
    median_reached: dict[str, Estimate] = field(default_factory=dict)
    median_quantiles: dict[str, dict[float, Estimate]] = field(default_factory=dict)
    # months from opening to each interim look and to the final analysis (None: not computed)
    timing: DecisionTiming | None = None

    @classmethod
    def from_replicates(
        cls, table: pd.DataFrame, scenario: Scenario, looks: pd.DataFrame | None = None
    ) -> OperatingCharacteristics:
        """The figures of a replicate table (one row per simulated trial) of ``scenario``, and of its look table."""
        true_orr = scenario.efficacy.orr
        origin = scenario.trial.study_start
        orr = table["orr"].to_numpy(dtype=float)
        low = table["orr_ci_low"].to_numpy(dtype=float)
        high = table["orr_ci_high"].to_numpy(dtype=float)
        timeline = {
            name: {q: quantile_estimate(_days(table[col], origin), q) for q in QUANTILES}
            for name, col in TIMELINE_COLUMNS.items()
        }
        # each replicate's own true ORR: the scenario's, or its draw from the ORR prior
        truth = table["true_orr"].to_numpy(dtype=float)
        bias = mean_estimate(orr - truth)
        tested_rate = mean_estimate(orr)
        with_ci = np.isfinite(low) & np.isfinite(high)
        stopped = table["stopped_early"].to_numpy(dtype=bool)
        monitored = bool(scenario.rule.look_sizes)
        return cls(
            scenario_name=scenario.trial.name,
            replicates=len(table),
            monitored=monitored,
            true_orr=true_orr,
            power=proportion_estimate(table["reject_h0"].to_numpy(dtype=bool)),
            early_stop=_by_design(proportion_estimate(table["stopped_early"].to_numpy(dtype=bool)), monitored),
            interim_wait_days=mean_estimate(table["interim_wait_days"][table["interim_looks"] > 0]),
            decision_months=mean_estimate(table["decision_months"]),
            enrollment_complete=proportion_estimate(~table["closed_short"].to_numpy(dtype=bool)[~stopped]),
            target_reached=_target_reached(table, scenario),
            timeline=timeline,
            orr_mean=mean_estimate(orr),
            orr_bias=bias,
            ci_width_median=quantile_estimate(high - low, 0.5),
            ci_width_mean=mean_estimate(high - low),
            coverage=proportion_estimate(((low <= truth) & (truth <= high))[with_ci]),
            orr_unconfirmed=mean_estimate(table["orr_unconfirmed"]),
            tested_rate=tested_rate,
            coverage_of_tested=_coverage_of_estimated(low[with_ci], high[with_ci], tested_rate),
            n_analysed=mean_estimate(table["n_analysed"]),
            n_enrolled=mean_estimate(table["n_enrolled"]),
            ae_discontinuation_rate=mean_estimate(table["ae_discontinuation_rate"]),
            median_pfs=mean_estimate(table["median_pfs_months"]),
            median_os=mean_estimate(table["median_os_months"]),
            origin=origin,
            decisions=DecisionFigures.from_replicates(table, scenario),
            median_reached={e: proportion_estimate(np.isfinite(_medians(table, e))) for e in ("pfs", "os")},
            median_quantiles={
                e: {q: quantile_estimate(_reached(table, e), q) for q in QUANTILES} for e in ("pfs", "os")
            },
            timing=DecisionTiming.from_tables(table, looks, scenario),
        )

    @property
    def _truth(self) -> str:
        """What the ORR is judged against: the scenario's point value, or each replicate's draw."""
        return f"{self.true_orr:g}" if self.decisions.prior is None else "ORR (each trial's draw)"

    def table(self) -> pd.DataFrame:
        """One row per figure: estimate, MCSE and unit, in reading order."""
        rows: list[tuple[str, Estimate, str]] = [("Power: P(reject H0)", self.power, "probability")]
        if self.decisions.prior is not None:
            rows = list(self.decisions.rows())
        if self.monitored:
            rows.append(("P(stopped early at an interim look)", self.early_stop, "probability"))
            wait = self.interim_wait_days
            rows.append(("Interim look wait (mean days)", wait, "days"))
            rows += self.timing.rows() if self.timing is not None else []
        rows += [
            (
                "Months from opening to the decision (mean)",
                self.decision_months,
                "months",
            ),
            (
                "P(enrollment complete by recruitment close)" + (" | no stop" if self.monitored else ""),
                self.enrollment_complete,
                "probability",
            ),
            *(
                [
                    (
                        "P(enrollment complete by close), all trials",
                        self.target_reached,
                        "probability",
                    )
                ]
                if self.monitored
                else []
            ),
            ("Patients enrolled (mean)", self.n_enrolled, "patients"),
            ("Patients analysed for ORR (mean)", self.n_analysed, "patients"),
        ]
        for name, per_q in self.timeline.items():
            label = name.replace("_", " ")
            for q, est in per_q.items():
                rows.append(
                    (
                        f"{label.capitalize()} date, {int(q * 100)}% quantile",
                        est,
                        "date (MCSE in days)",
                    )
                )
        rows += [
            ("ORR estimate (mean)", self.orr_mean, "proportion"),
            ("Unconfirmed ORR (mean)", self.orr_unconfirmed, "proportion"),
            (f"ORR bias vs true {self._truth}", self.orr_bias, "proportion"),
            ("ORR CI width (median)", self.ci_width_median, "proportion"),
            ("ORR CI width (mean)", self.ci_width_mean, "proportion"),
            (
                f"Coverage of the true ORR ({self.coverage.n} with a CI)",
                self.coverage,
                "probability",
            ),
            (
                "ORR tested rate (mean of the trials' ORR)",
                self.tested_rate,
                "proportion",
            ),
            (
                f"Coverage of the tested rate ({self.coverage_of_tested.n} with a CI)",
                self.coverage_of_tested,
                "probability",
            ),
            (
                "AE discontinuation rate (mean)",
                self.ae_discontinuation_rate,
                "proportion",
            ),
            (
                f"Median PFS (mean of {self.median_pfs.n} reached)",
                self.median_pfs,
                "months",
            ),
            (f"Median OS (mean of {self.median_os.n} reached)", self.median_os, "months"),
        ]
        for endpoint in self.median_reached:
            name = endpoint.upper()
            reached = self.median_reached[endpoint]
            rows.append((f"P(median {name} reached)", reached, "probability"))
            for q, est in self.median_quantiles[endpoint].items():
                rows.append((f"Median {name}, {int(q * 100)}% quantile of trials reaching it", est, "months"))
        return pd.DataFrame(
            [
                (
                    label,
                    _iso(self.origin, e.value) if unit.startswith("date") else e.value,
                    e.mcse,
                    unit,
                    math.nan if e.bound is None else e.bound,
                )
                for label, e, unit in rows
            ],
            columns=["figure", "estimate", "mcse", "unit", "bound_95"],
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON document ``summary.json`` holds."""

        est = estimate_json
        return {
            "scenario": self.scenario_name,
            "replicates": self.replicates,
            "power": est(self.power),
            "assurance": est(self.decisions.assurance),
            "decisions": self.decisions.to_dict(),
            "early_stop": est(self.early_stop),
            "interim_wait_days": est(self.interim_wait_days),
            "decision_months": est(self.decision_months),
            "decision_timing": self.timing.to_dict() if self.timing is not None else None,
            "enrollment_complete_by_close": est(self.enrollment_complete),
            "enrollment_target_reached_by_close": est(self.target_reached),
            "timeline": {
                name: {
                    f"q{int(q * 100)}": {"date": _iso(self.origin, e.value), "mcse_days": json_number(e.mcse)}
                    for q, e in per_q.items()
                }
                for name, per_q in self.timeline.items()
            },
            "orr": {
                "true": self.true_orr,
                "mean": est(self.orr_mean),
                "unconfirmed_mean": est(self.orr_unconfirmed),
                "bias": est(self.orr_bias),
                "median_ci_width": est(self.ci_width_median),
                "mean_ci_width": est(self.ci_width_mean),
                "coverage": est(self.coverage),
                "tested_rate": est(self.tested_rate),
                "coverage_of_tested": est(self.coverage_of_tested),
            },
            "n_enrolled": est(self.n_enrolled),
            "n_analysed": est(self.n_analysed),
            "ae_discontinuation_rate": est(self.ae_discontinuation_rate),
            "median_pfs_months": est(self.median_pfs),
            "median_os_months": est(self.median_os),
            **{f"median_{e}_reached": est(r) for e, r in self.median_reached.items()},
            **{
                f"median_{e}_quantiles": {f"q{int(q * 100)}": est(v) for q, v in per_q.items()}
                for e, per_q in self.median_quantiles.items()
            },
        }


def _target_reached(table: pd.DataFrame, scenario: Scenario) -> Estimate:
    """P(the enrollment target is met by recruitment close) over all replicates, by the date it was met.

    A trial stopped at a look before meeting its target counts as not met; one that met it while
    the look waited (enrollment not paused) counts, as the report's completion curve shows it.
    """
    done = table["enrollment_complete_date"]
    close = pd.Timestamp(scenario.trial.recruitment_close)
    return proportion_estimate((done.notna() & (done <= close)).to_numpy(dtype=bool))


def _coverage_of_estimated(low: np.ndarray, high: np.ndarray, target: Estimate) -> Estimate:
    """The share of intervals covering ``target``, a target the run itself estimated, with an MCSE that counts it.

    The binomial MCSE alone treats the target as known. Moving the target by its own MCSE moves the
    coverage by half the difference ``|C(t + m) - C(t - m)|`` (the plug-in's effect, to first order),
    which is added in quadrature.
    """
    t, m = target.value, target.mcse
    covered = proportion_estimate((low <= t) & (t <= high))
    if not (np.isfinite(m) and covered.n):
        return covered
    moved = abs(float(np.mean((low <= t + m) & (t + m <= high))) - float(np.mean((low <= t - m) & (t - m <= high))))
    if moved == 0.0:
        return covered
    return dataclasses.replace(covered, mcse=math.hypot(covered.mcse, moved / 2), bound=None)


def _by_design(share: Estimate, possible: bool) -> Estimate:
    """``share`` as is, or without a one-sided bound when the design makes it 0 (no look, no early stop)."""
    return share if possible else dataclasses.replace(share, bound=None)
