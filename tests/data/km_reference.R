# Reference Kaplan-Meier output from R's survival package for tests/test_survival.py.
# Regenerate with:  Rscript tests/data/km_reference.R > tests/data/km_reference.json
# Numbers are written with 17 significant digits; NA/NaN become null, Inf becomes Infinity.
suppressPackageStartupMessages(library(survival))

num <- function(x) {
  x <- as.numeric(x)
  out <- ifelse(is.na(x), "null",
         ifelse(is.infinite(x), ifelse(x > 0, "Infinity", "-Infinity"),
                sprintf("%.17g", x)))
  paste0("[", paste(out, collapse = ", "), "]")
}
obj <- function(fields) {
  paste0("{", paste(sprintf("\"%s\": %s", names(fields), unlist(fields)), collapse = ", "), "}")
}

datasets <- list(
  small_ties = list(
    time = c(1, 2, 2, 3, 4, 4, 5, 6, 7, 8),
    status = c(1, 1, 0, 1, 0, 1, 0, 1, 1, 0),
    landmarks = c(0.5, 1, 2.5, 6, 8)),
  ties = list(
    time = c(2, 3, 3, 3, 5, 5, 6, 8, 8, 9, 11, 12),
    status = c(1, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0),
    landmarks = c(1, 3, 6, 10, 12)),
  flat_half = list(                       # S = 0.75 * 5/6 * 4/5 = 0.5 on [4, 7): median (4 + 7) / 2
    time = c(1, 1, 1, 2, 2, 2, 3, 4, 5, 6, 7, 10),
    status = c(1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 0),
    landmarks = c(2, 4, 6.5, 7, 10)),
  flat_half_inexact = list(               # S = 10/15 * 7/8 * 6/7 is 0.4999999999999999 in floating point
    time = c(1, 1, 1, 1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    status = c(1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1),
    landmarks = c(1, 4, 5, 9)),
  flat_to_end = list(                     # S = 0.5 from 3 to the last follow-up at 6
    time = c(1, 2, 3, 4, 5, 6),
    status = c(1, 1, 1, 0, 0, 0),
    landmarks = c(1, 3, 6)),
  unreached = list(                       # S stays at 0.7875: no median
    time = c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    status = c(1, 0, 1, 0, 0, 0, 0, 0, 0, 0),
    landmarks = c(0.5, 2, 5, 10)),
  to_zero = list(                         # the last patient has the event: S = 0, bands undefined
    time = c(2, 4, 4, 5, 7, 9),
    status = c(1, 0, 1, 1, 1, 1),
    landmarks = c(1, 4, 8, 9)),
  no_censoring = list(                    # S = 1 - 4/8 = 0.5 on [3, 5): median 4
    time = c(1, 2, 2, 3, 5, 5, 6, 8),
    status = c(1, 1, 1, 1, 1, 1, 1, 1),
    landmarks = c(2, 4, 8)),
  trial35 = list(                         # 35 patients, PFS in months, administrative censoring
    time = c(3.61, 9.16, 5.27, 0.68, 13.85, 6.39, 3.23, 1.42, 11.58, 22.41, 2.59, 8.39,
             10.47, 0.25, 1.12, 13.11, 0.99, 19.74, 13.34, 0.68, 8.65, 0.03, 3.30, 0.42,
             0.57, 17.32, 1.45, 1.25, 9.43, 4.90, 4.77, 0.00, 9.22, 1.63, 10.28),
    status = c(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1,
               0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1),
    landmarks = c(1, 6, 12, 18))
)

probs <- c(0.25, 0.5, 0.75)

fit_json <- function(d, conf_type) {
  fit <- survfit(Surv(d$time, d$status) ~ 1, conf.type = conf_type, conf.int = 0.95)
  s <- summary(fit)                      # rows at event times; std.err on the survival scale
  ev <- fit$n.event > 0
  tab <- summary(fit)$table
  q <- quantile(fit, probs = probs)
  lm <- summary(fit, times = d$landmarks)  # landmarks past the last follow-up are dropped by R
  obj(list(
    table = obj(list(time = num(s$time), n_risk = num(s$n.risk), n_event = num(s$n.event),
                     n_censor = num(s$n.censor), surv = num(s$surv), std_err = num(s$std.err),
                     std_err_log = num(fit$std.err[ev]), lower = num(s$lower), upper = num(s$upper))),
    print_median = obj(list(median = num(tab[["median"]]), lcl = num(tab[["0.95LCL"]]),
                            ucl = num(tab[["0.95UCL"]]))),
    quantile = obj(list(probs = num(probs), quantile = num(q$quantile), lower = num(q$lower),
                        upper = num(q$upper))),
    landmark = obj(list(time = num(lm$time), surv = num(lm$surv), std_err = num(lm$std.err),
                        lower = num(lm$lower), upper = num(lm$upper)))
  ))
}

dataset_json <- function(d) {
  reverse <- survfit(Surv(d$time, 1 - d$status) ~ 1)
  fits <- sapply(c("log-log", "log", "plain"), function(ct) fit_json(d, ct))
  obj(list(
    time = num(d$time), status = num(d$status), landmarks = num(d$landmarks),
    reverse_km_median = num(summary(reverse)$table[["median"]]),
    fits = obj(as.list(fits))
  ))
}

cat(obj(list(
  r_version = sprintf("\"%s\"", R.version.string),
  survival_version = sprintf("\"%s\"", as.character(packageVersion("survival"))),
  conf_level = num(0.95),
  datasets = obj(lapply(datasets, dataset_json))
)), "\n")
