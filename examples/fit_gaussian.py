"""Fit a normal distribution to data by maximum likelihood, with gradient descent.

Run it: python examples/fit_gaussian.py

The negative log-likelihood of data x_1..x_n under N(mu, sigma^2), divided
by n, is

    nll = log(sigma) + (1/n) * sum((x_i - mu)^2 / (2 sigma^2)) + log(2 pi)/2

It is written below as a plain function of mu, log_sigma and the data list,
with a for loop over the list. Optimising log_sigma instead of sigma keeps
sigma = exp(log_sigma) positive without any constraint. value_and_grad
gives the value and (dnll/dmu, dnll/dlog_sigma) from one forward and one
backward pass; the data list is not differentiated (wrt=...).

The minimum is known in closed form: mu = the mean of the data, sigma = its
population standard deviation (statistics.fmean and statistics.pstdev), so
the fit can be checked.
"""

import math
import random

from symback import value_and_grad

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def nll(mu, log_sigma, xs):
    """Mean negative log-likelihood of the points xs under N(mu, exp(log_sigma)**2)."""
    inv_sigma = math.exp(-log_sigma)
    total = 0.0
    for x in xs:
        r = (x - mu) * inv_sigma
        total += 0.5 * r * r
    return total / len(xs) + log_sigma + HALF_LOG_2PI


def fit(xs, steps=300, rate=0.5):
    """Gradient descent from mu = 0, sigma = 1; returns (mu, sigma, nll)."""
    step = value_and_grad(nll, wrt=("mu", "log_sigma"))
    mu, log_sigma = 0.0, 0.0
    for _ in range(steps):
        value, (dmu, dlog_sigma) = step(mu, log_sigma, xs)
        mu -= rate * dmu
        log_sigma -= rate * dlog_sigma
    return mu, math.exp(log_sigma), value


def sample(n=200, mu=3.0, sigma=1.5, seed=0):
    """n points drawn from N(mu, sigma^2), the same every run."""
    rng = random.Random(seed)
    return [rng.gauss(mu, sigma) for _ in range(n)]


if __name__ == "__main__":
    import statistics

    print(value_and_grad(nll, wrt=("mu", "log_sigma")).source)
    data = sample()
    mu, sigma, value = fit(data)
    print(f"fitted by gradient descent:  mu = {mu:.6f}  sigma = {sigma:.6f}  (nll {value:.6f})")
    print(f"closed form (mean, pstdev):  mu = {statistics.fmean(data):.6f}  sigma = {statistics.pstdev(data):.6f}")
