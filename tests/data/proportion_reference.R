# Reference binomial intervals, p-values and critical values from base R for tests/test_proportions.py.
# Regenerate with:  Rscript tests/data/proportion_reference.R > tests/data/proportion_reference.json
# exact:    binom.test()$conf.int (Clopper-Pearson, qbeta)
# wilson:   prop.test(correct = FALSE)$conf.int (score interval)
# wilsoncc: prop.test(correct = TRUE)$conf.int, with the null p chosen far enough from k/n that
#           R's correction min(0.5, |k - n p|) is the full 0.5
# jeffreys: qbeta of Beta(k + 1/2, n - k + 1/2), lower 0 at k = 0 and upper 1 at k = n
# agresti-coull: add z^2/2 successes and failures, Wald interval, clipped to [0, 1]
# p_greater: binom.test(k, n, p0, alternative = "greater")$p.value
# critical: smallest r with P(X >= r) <= alpha, from pbinom(r - 1, n, p0, lower.tail = FALSE)

num <- function(x) {
  x <- as.numeric(x)
  out <- ifelse(is.na(x), "null", sprintf("%.17g", x))
  paste0("[", paste(out, collapse = ", "), "]")
}
obj <- function(fields) {
  paste0("{", paste(sprintf("\"%s\": %s", names(fields), unlist(fields)), collapse = ", "), "}")
}

interval_rows <- list()
for (n in c(1, 2, 5, 10, 17, 35, 100)) {
  for (k in unique(c(0, 1, floor(n / 3), floor(n / 2), n - 1, n))) {
    if (k < 0) next
    for (conf in c(0.95, 0.90)) {
      z <- qnorm(1 - (1 - conf) / 2)
      exact <- binom.test(k, n, conf.level = conf)$conf.int
      wilson <- suppressWarnings(prop.test(k, n, conf.level = conf, correct = FALSE)$conf.int)
      p_far <- if (k / n <= 0.5) 0.9999 else 0.0001
      stopifnot(abs(k - n * p_far) >= 0.5)
      wilsoncc <- suppressWarnings(prop.test(k, n, p = p_far, conf.level = conf, correct = TRUE)$conf.int)
      jeffreys <- c(if (k == 0) 0 else qbeta((1 - conf) / 2, k + 0.5, n - k + 0.5),
                    if (k == n) 1 else qbeta(1 - (1 - conf) / 2, k + 0.5, n - k + 0.5))
      n_t <- n + z^2
      p_t <- (k + z^2 / 2) / n_t
      half <- z * sqrt(p_t * (1 - p_t) / n_t)
      ac <- c(max(0, p_t - half), min(1, p_t + half))
      interval_rows[[length(interval_rows) + 1]] <- obj(list(
        k = num(k), n = num(n), conf_level = num(conf),
        exact = num(exact), wilson = num(wilson), wilsoncc = num(wilsoncc),
        jeffreys = num(jeffreys), agresti_coull = num(ac)))
    }
  }
}

test_rows <- list()
for (n in c(1, 10, 25, 35, 60)) {
  for (p0 in c(0.05, 0.1, 0.2, 0.3)) {
    ks <- 0:n
    p_greater <- sapply(ks, function(k) binom.test(k, n, p0, alternative = "greater")$p.value)
    critical <- sapply(c(0.025, 0.05, 0.1), function(a) {
      tails <- pbinom((0:(n + 1)) - 1, n, p0, lower.tail = FALSE)
      min(which(tails <= a)) - 1
    })
    test_rows[[length(test_rows) + 1]] <- obj(list(
      n = num(n), p0 = num(p0), p_greater = num(p_greater),
      alpha = num(c(0.025, 0.05, 0.1)), critical = num(critical)))
  }
}

cat(obj(list(
  r_version = sprintf("\"%s\"", R.version.string),
  intervals = paste0("[", paste(unlist(interval_rows), collapse = ",\n"), "]"),
  tests = paste0("[", paste(unlist(test_rows), collapse = ",\n"), "]")
)), "\n")
