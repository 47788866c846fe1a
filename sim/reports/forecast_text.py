"""The forecast for the terminal: what was observed, each site's posterior rate, the figures, the run."""

from __future__ import annotations

from ..forecast import Forecast
from ..forecast.hazards import hazard_lines
from ..forecast.orr_posterior import OrrPosterior
from ..forecast.pfs_posterior import pfs_lines
from .text import Heading, estimate_cell, headed, mcse_cell, summary_text

__all__ = ["forecast_text"]


_FORECAST_DATES = (
    ("enrollment complete", "enrollment_complete_date"),
    ("primary analysis (ORR cutoff)", "primary_cutoff_date"),
    ("final analysis (PFS/OS cutoff)", "final_cutoff_date"),
)


def _forecast_rows(f: Forecast) -> list[tuple[str, str, str, str]]:
    """(figure, estimate, MCSE, unit) rows of the forecast's own figures."""
    rows = [
        (
            "P(enrollment complete by close)",
            *_cells(f.p_enrollment_complete_by_close.value, f.p_enrollment_complete_by_close.mcse, "probability"),
            "probability",
        ),
    ]
    if f.rate_sensitivity is not None and f.rate_sensitivity_sites:
        other = f.rate_sensitivity.summary.target_reached
        prior = f.rate_sensitivity_sites[0].prior
        rows.append((f"  with the sites' {prior}", *_cells(other.value, other.mcse, "probability"), "probability"))
        day, mcse = f.date_quantiles("enrollment_complete_date", f.rate_sensitivity)[0.5]
        shown = "not by then" if day is None else day.isoformat()
        rows.append((f"  enrollment complete, median, with the sites' {prior}", shown, mcse_cell(mcse, "date"), "date"))
    for label, column in _FORECAST_DATES:
        for q, (day, mcse) in f.date_quantiles(column).items():
            shown = "not by then" if day is None else day.isoformat()
            rows.append((f"{label}, {round(q * 100)}th percentile", shown, mcse_cell(mcse, "date"), "date"))
    cp, pp = f.conditional_power, f.predictive_probability
    rows.append(
        (
            f"conditional power (ORR {f.scenario.efficacy.orr:g})",
            *_cells(cp.value, cp.mcse, "probability"),
            "probability",
        )
    )
    rows.append(("predictive probability of success", *_cells(pp.value, pp.mcse, "probability"), "probability"))
    sp = f.sceptical_predictive_probability
    rows.append(
        (
            f"  under the sceptical prior {f.sceptical_prior.law.describe()}",
            *_cells(sp.value, sp.mcse, "probability"),
            "probability",
        )
    )
    return rows


def _cells(value: float, mcse: float, unit: str) -> tuple[str, str]:
    """An estimate and its MCSE as table cells."""
    return estimate_cell(value), mcse_cell(mcse, unit)


def _screening_lines(f: Forecast) -> list[str]:
    """The screening counts a forecast was given, and the screen-failure posterior (none without counts)."""
    if f.screening is None or f.screen_failure_posterior is None:
        return []
    a, b = f.screen_failure_posterior
    screened, failed = sum(f.screening.screened.values()), sum(f.screening.failed.values())
    return [
        f"  screening so far: {screened} screened, {failed} failed; screen-failure rate {a / (a + b):.3f} "
        f"(posterior mean; planned {f.scenario.recruitment.screen_failure_probability:g})"
    ]


def forecast_text(f: Forecast, heading: Heading | None = None) -> str:
    """A forecast: what was observed, each site's posterior rate, the forecast figures, then the run's summary."""
    responders, settled = f.orr_evidence
    lines = [
        f"Forecast as of {f.as_of} from {f.observed.source}: {f.observed.n_enrolled} of "
        f"{f.scenario.trial.sample_size} patients enrolled ({f.conditional.summary.replicates} replicates)",
        *(
            f"  {s.name}: {s.enrolled} enrolled; screening rate {s.rate_per_month():.2f} per month "
            f"(90% interval {s.rate_per_month(0.05):.2f} to {s.rate_per_month(0.95):.2f}; "
            f"planned {s.planned_per_month:g}; {s.prior})"
            for s in f.sites
        ),
        f"  responses so far: {responders} confirmed, {settled} settled without one",
        f"  ORR prior {f.prior.law.describe()} ({f.prior.source})",
        f"  ORR posterior {f.orr_posterior.describe()}",
        *_likelihood_error_lines(f),
        f"  sceptical prior {f.sceptical_prior.law.describe()} ({f.sceptical_prior.source})",
        *_screening_lines(f),
        *([] if f.hazards is None else hazard_lines(f.hazards)),
        *([] if f.pfs is None else pfs_lines(f.pfs, f.prior.law)),
        *(
            f"  interim look {i + 1} held at {n} patients: {k} responders, the trial went on"
            for i, (n, k) in enumerate(f.looks_held)
        ),
        "",
    ]
    rows = _forecast_rows(f)
    width = max(len(r[0]) for r in rows)
    lines.append(f"{'figure':<{width}}  {'estimate':>12}  {'MCSE':>9}  unit")
    lines += [f"{name:<{width}}  {value:>12}  {mcse:>9}  {unit}" for name, value, mcse, unit in rows]
    lines += [*(f"note: {note}" for note in f.notes), "", "The forecast run in full (under the scenario's ORR):"]
    return headed(heading, lines) + "\n" + summary_text(f.conditional.summary)


def _likelihood_error_lines(f: Forecast) -> list[str]:
    """The ORR likelihood's own Monte Carlo error: half the gap between the posteriors of its two halves."""
    law = f.orr_posterior
    error = law.likelihood_error() if isinstance(law, OrrPosterior) else None
    if error is None:
        return []
    return [
        f"  likelihood error (half the gap between two independent halves of its draws): mean ±{error['mean']:.3f}, "
        f"5% quantile ±{error['q05']:.3f}, 95% quantile ±{error['q95']:.3f}"
    ]
