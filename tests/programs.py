"""A corpus of plain scalar Python functions for symback's gradient tests.

Every function is straight-line code over floats that ends in one `return`.
Each carries a sampling domain (`@domain`) chosen so that sampled points stay
well away from singularities (log 0, division by 0, asin(+-1), ...) and from
the kinks and jumps of abs, min, max, // and %: the numeric reference and the
compiler must agree at every point `sample_args` can return.

All three import styles are used below: `import math`, `import math as m`
and `from math import ...`.
"""

from __future__ import annotations

import inspect
import math
import math as m
import random
from math import erf, exp, log, sin, sqrt

# Module-level constants that functions read (symback resolves them as numbers).
SCALE = 0.75
OFFSET = 1.5
N = 3
G = 9.81
R_GAS = 8.314
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)

DEFAULT_DOMAIN = (-2.0, 2.0)


def _positional_params(fn) -> list[str]:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in inspect.signature(fn).parameters.values() if p.kind in kinds]


def domain(*bounds: float, **per_param: tuple[float, float]):
    """Record where to sample a function: `@domain(lo, hi)` and/or `@domain(x=(lo, hi))`.

    Positional bounds apply to every parameter not named explicitly. The
    function is returned unchanged, with `fn.domain = {param: (lo, hi)}`.
    """
    if bounds and len(bounds) != 2:
        raise TypeError("domain() takes (lo, hi) and/or param=(lo, hi)")
    default = tuple(map(float, bounds)) if bounds else DEFAULT_DOMAIN

    def mark(fn):
        params = _positional_params(fn)
        unknown = set(per_param) - set(params)
        if unknown:
            raise TypeError(f"domain for unknown parameters {sorted(unknown)} of {fn.__name__}")
        fn.domain = {p: tuple(map(float, per_param.get(p, default))) for p in params}
        for p, (lo, hi) in fn.domain.items():
            if not lo < hi:
                raise ValueError(f"empty domain {lo, hi} for {fn.__name__}({p})")
        return fn

    return mark


def sample_args(fn, seed: int) -> tuple[float, ...]:
    """A point in fn's domain, one float per positional parameter.

    Keyword-only parameters are not sampled: they keep their defaults.
    """
    rng = random.Random(seed)
    bounds = getattr(fn, "domain", None) or {p: DEFAULT_DOMAIN for p in _positional_params(fn)}
    return tuple(rng.uniform(lo, hi) for lo, hi in bounds.values())


# --------------------------------------------------------------------------
# Arithmetic operators
# --------------------------------------------------------------------------

@domain(-2, 2)
def mul_add(x, y):
    return x * y + x


@domain(-2, 2)
def sub_div(x, y):
    return (x - y) / (y + 3.0)


@domain(-2, 2)
def cubic(x):
    return 2.0 * x ** 3 - 4.0 * x ** 2 + x - 7.0


@domain(-2, 2)
def neg_square(x):
    return -x ** 2 + 3


@domain(-2, 2)
def unary_signs(x, y):
    return +x * -y + -(-x) - (+y)


@domain(-3, -0.5)
def power_negative_base(x):
    return x ** 3 + x ** 2.0 + x ** N


@domain(x=(0.5, 3.0), y=(-2.0, 2.0))
def power_variable_exponent(x, y):
    return x ** y + y ** 2


@domain(0.5, 3.0)
def reciprocals(x):
    return 1 / x + 1 / x ** 2 - 2 / (x * x * x)


@domain(0.5, 2.0)
def fractional_powers(x):
    return x ** -1.5 + x ** 0.5 + x ** (1 / 3)


@domain(-2, 2)
def constant_base_powers(x):
    return 2.0 ** x + math.e ** (x / 2) + 10 ** (0.1 * x)


@domain(0.5, 1.5)
def power_tower(x, y, z):
    """Right-associative: x ** (y ** z)."""
    return x ** y ** z


@domain(a=(1.0, 3.0), b=(0.5, 2.0), c=(1.0, 2.5))
def left_associative(a, b, c):
    return a / b / c - a - b - c + a * b / c


@domain(-2, 2)
def quotient_rule(x, y):
    return (x * x + 1) / (y * y + 1)


@domain(-2, 2)
def true_division_of_ints(x):
    return 1 / 2 * x + 3 / 4 * x * x


@domain(x=(0.6, 0.9), y=(-2.0, 2.0))
def floordiv_scaled(x, y):
    """x // 0.5 is the constant 1 on this domain: it scales y."""
    return y * (x // 0.5) + x


@domain(x=(-0.9, -0.6), y=(-2.0, 2.0))
def floordiv_negative(x, y):
    """x // 0.5 is -2 on this domain (floor, not truncation)."""
    return y * (x // 0.5) + x * x


@domain(a=(2.3, 2.8), b=(1.0, 1.1))
def floordiv_vars(a, b):
    """a // b is 2 on this domain; it contributes no gradient of its own."""
    return a // b * a + b


@domain(0.2, 0.8)
def floordiv_only(x):
    return x // 1.0


@domain(-1.8, -0.2)
def mod_constant(x):
    """On this domain x % 2.0 == x + 2 (Python's % takes the divisor's sign)."""
    return x % 2.0 * x


@domain(a=(-2.8, -2.3), b=(1.0, 1.1))
def mod_vars(a, b):
    """a // b == -3 here, so d(a % b)/db == 3."""
    return a % b


@domain(a=(2.3, 2.8), b=(-1.1, -1.0))
def mod_negative_divisor(a, b):
    return a % b * a + b


@domain(x=(0.8, 0.95), y=(1.2, 1.4))
def floordiv_and_mod(x, y):
    q = x // 0.25
    r = y % 0.5
    return q * r + x * y


# --------------------------------------------------------------------------
# math functions, constants, builtins
# --------------------------------------------------------------------------

@domain(-1.2, 1.2)
def trig(x):
    return math.sin(x) * math.cos(x) + math.tan(x)


@domain(-0.9, 0.9)
def inverse_trig(x):
    return math.asin(x) + math.acos(x / 2) + math.atan(3 * x)


@domain(y=(0.2, 2.0), x=(-2.0, 2.0))
def atan2_polar(y, x):
    return math.atan2(y, x) * math.hypot(x, y)


@domain(-2, 2)
def hyperbolic(x):
    return math.sinh(x) + math.cosh(x) ** 2 - math.tanh(x)


@domain(x=(-2.0, 2.0), y=(1.2, 3.0))
def inverse_hyperbolic(x, y):
    return math.asinh(x) + math.acosh(y) + math.atanh(x / 3)


@domain(-2, 2)
def exp_family(x):
    return math.exp(x) - 2 * math.expm1(x) + math.expm1(x / 100)


@domain(x=(0.5, 3.0), y=(0.1, 2.0))
def log_family(x, y):
    return math.log(x) + math.log1p(y) + math.log2(x * y) + math.log10(x + y)


@domain(x=(0.5, 4.0), b=(1.5, 4.0))
def log_with_base(x, b):
    return math.log(x, b) + math.log(x, 2) + math.log(b * x, 10)


@domain(x=(0.5, 3.0), y=(-1.5, 1.5))
def sqrt_and_pow(x, y):
    return math.sqrt(x) + math.pow(x, y) + math.pow(y, 2) + math.pow(2.0, y)


@domain(x=(-3.0, -0.5), y=(1.5, 3.0))
def fabs_and_abs(x, y):
    return math.fabs(x) * abs(y - 1) + abs(x * y) - math.fabs(2 * x + y - 10)


@domain(-3.0, -0.5)
def abs_of_sine(x):
    """sin(x) < 0 on this domain."""
    return abs(math.sin(x)) + abs(x) ** 2


@domain(x=(1.0, 2.0), c=(0.5, 1.5))
def abs_of_log(x, c):
    """SymPy cannot prove log(x*x + c) real (c could be negative); symback treats
    every value as real, as Python does. x - log(x*x + c) > 0 on this domain."""
    return abs(x - 0.5 * math.log(x * x + c)) + abs(0.5 - x * math.log(1.0 + 0.5 ** 2))


@domain(-2, 2)
def erf_erfc(x):
    return math.erf(x) + 2 * math.erfc(x / 2)


@domain(-2, 2)
def named_constants(x):
    return math.pi * x ** 2 + math.e * x + math.tau + math.sin(math.pi * x / 4)


@domain(x=(1.0, 2.0), y=(-1.0, 0.5))
def min_max_pair(x, y):
    """max picks its first argument here, min its second."""
    return max(x, y) * min(x, y) + max(y, x) - min(y, x)


@domain(x=(-1.0, 0.0), y=(2.0, 3.0), z=(0.5, 1.5))
def min_max_three(x, y, z):
    """max picks the middle argument, min the first."""
    return max(x, y, z) - min(x * 2, y, z + 3)


@domain(x=(-1.0, 0.0), y=(0.2, 0.8), z=(1.0, 2.0))
def min_max_last_wins(x, y, z):
    """The last argument wins: z in max, x in min."""
    return max(x, y, 0.9, z) + min(0.5, y, z, x) * y


@domain(1.2, 2.0)
def relu_and_clip(x):
    return max(x, 0.0) + min(x, 1.0) + max(0.0, -x)


@domain(2.5, 3.5)
def max_of_expressions(x):
    return max(x * x, 2 * x) + min(x * x, 2 * x)


@domain(-2, 2)
def nested_calls(x):
    return math.sin(math.cos(math.exp(x / 2))) + math.tanh(math.sinh(x / 3))


# --------------------------------------------------------------------------
# Statements: intermediates, reassignment, augmented/tuple/chained/annotated
# --------------------------------------------------------------------------

@domain(-2, 2)
def intermediates(x, y):
    a = x * y
    b = a + x
    c = b * b
    return c - a


@domain(-1.5, 1.5)
def reassign_same_name(x):
    t = x
    t = t * t
    t = t + x
    t = math.sin(t)
    t = t * x + t
    return t * x


@domain(-1.5, 1.5)
def augmented_assignments(x, y):
    s = x
    s += y
    s *= x
    s -= 0.5 * y
    s /= 1 + y * y
    s **= 2
    s += s
    return s


@domain(-1.5, 1.5)
def augment_parameters(x, y):
    x += y
    x *= x
    y -= x
    return x * y


@domain(-2, 2)
def tuple_unpacking(x, y):
    a, b = x * y, x + y
    c, d = a - b, a * b
    return a * b + c * d


@domain(-2, 2)
def swap_locals(x, y):
    a, b = x, y * 2
    a, b = b, a
    return a ** 2 + 3 * b


@domain(-2, 2)
def swap_parameters(x, y):
    x, y = y, x
    return x * 2 + y ** 3


@domain(-2, 2)
def rotate_in_place(x, y, theta):
    c, s = math.cos(theta), math.sin(theta)
    x, y = c * x - s * y, s * x + c * y
    return x * x * 2 + y


@domain(-2, 2)
def chained_assignment(x, y):
    a = b = x * y
    a = a + 1
    return a * b


@domain(-2, 2)
def annotated_assignment(x, y):
    z: float = x * y
    w: float = z + x
    return w * z


@domain(-2, 2)
def with_docstring(x):
    """Returns x squared plus sin x.

    A docstring (even a multi-line one) is not a statement to differentiate.
    """
    return x ** 2 + math.sin(x)


@domain(-2, 2)
def with_defaults(x, y=2.0, z=-1.0):
    return x * y + y * z + z


@domain(-2, 2)
def keyword_only(x, y, *, k=2.0, shift=0.5):
    """k and shift are keyword-only: grad differentiates them too unless wrt says otherwise."""
    return x ** 2 * k + shift * y + k * x * y


@domain(-2, 2)
def unused_parameter(x, y):
    return x * 3.0 + 1.0


@domain(-2, 2)
def dead_code_uses_parameter(x, y):
    """y is read, but only into a variable that never reaches the return."""
    unused = y * y
    return x * x


@domain(-2, 2)
def returns_parameter(x, y):
    return y


@domain(-2, 2)
def returns_constant(x):
    return 3.5


@domain(-2, 2)
def returns_only_parameter(x):
    return x


@domain(-2, 2)
def generated_name_collisions(x, y):
    """User variables named like symback's generated names."""
    x_bar = x * y
    x_1 = x_bar + y
    out = x_1 * x
    _t1 = out - x_bar
    y_bar = _t1 * 2
    x_2 = y_bar + x_1
    return _t1 + y_bar * x_1 + x_2


@domain(-2, 2)
def collision_named_params(x_bar, x_1, _t1):
    """Parameters named like generated names."""
    out = x_bar * x_1 + _t1
    _t2 = out * x_bar
    return _t2 + _t1 * x_1


@domain(-1.5, 1.5)
def shadow_module_constant(x):
    """A local SCALE shadows the module constant SCALE."""
    SCALE = x * 2.0
    return SCALE * x


@domain(-2, 2)
def module_constants(x):
    return SCALE * x ** N + OFFSET * x - HALF_LOG_2PI


@domain(-2, 2)
def math_alias(x, y):
    return m.sin(x) * m.exp(y / 2) + m.pi * m.tanh(x * y)


@domain(x=(-2.0, 2.0), y=(0.5, 3.0))
def from_imports(x, y):
    return sin(x) * exp(-y) + sqrt(y) * log(y) + erf(x)


@domain(x=(-2.0, 2.0), y=(0.5, 3.0))
def mixed_import_styles(x, y):
    a = math.cos(x) + m.cos(y)
    b = sin(a) * exp(x / 3)
    return a * b + m.log(y) + math.e


@domain(-2, 2)
def long_chain(x, y):
    t = x + y
    t = t * 0.5 + x
    u = math.sin(t) + y
    t = t * u
    u = u - t / 4
    v = math.tanh(u) + t
    t = v * v * 0.1
    u += t
    v = u * y - t
    t = math.cos(v) + u
    u = t * x
    return u + v + t


@domain(-2, 2)
def fan_out(x):
    """One value used by many later expressions."""
    s = math.sin(x)
    a = s * s
    b = s + a
    c = a * b * s
    return s + a + b + c + s * c


# --------------------------------------------------------------------------
# Models from science and statistics
# --------------------------------------------------------------------------

@domain(-2.0, 2.0, a0=(0.0, 1.0), y=(0.0, 1.0))
def neuron4(w1, b1, w2, b2, w3, b3, w4, b4, a0, y):
    """3Blue1Brown's chain of four single-neuron layers with sigmoid activations."""
    z1 = w1 * a0 + b1
    a1 = 1 / (1 + math.exp(-z1))
    z2 = w2 * a1 + b2
    a2 = 1 / (1 + math.exp(-z2))
    z3 = w3 * a2 + b3
    a3 = 1 / (1 + math.exp(-z3))
    z4 = w4 * a3 + b4
    a4 = 1 / (1 + math.exp(-z4))
    cost = (a4 - y) ** 2
    return cost


@domain(-4, 4)
def sigmoid(x):
    return 1 / (1 + math.exp(-x))


@domain(x=(-3.0, 3.0), mu=(-1.0, 1.0), sigma=(0.5, 2.0))
def gaussian_logpdf(x, mu, sigma):
    z = (x - mu) / sigma
    return -0.5 * z * z - math.log(sigma) - 0.5 * math.log(2 * math.pi)


@domain(v=(1.0, 20.0), theta=(0.1, 1.4))
def projectile_range(v, theta):
    return v ** 2 * math.sin(2 * theta) / G


@domain(S=(80.0, 120.0), K=(80.0, 120.0), T=(0.25, 2.0), r=(0.0, 0.1), sigma=(0.1, 0.5))
def black_scholes_call(S, K, T, r, sigma):
    """European call price; the normal CDF is written with math.erf."""
    d1 = (math.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * math.sqrt(T))
    d2 = d1 - sigma * math.sqrt(T)
    n1 = 0.5 * (1 + math.erf(d1 / math.sqrt(2)))
    n2 = 0.5 * (1 + math.erf(d2 / math.sqrt(2)))
    return S * n1 - K * math.exp(-r * T) * n2


@domain(-3, 3)
def softplus(x):
    return math.log1p(math.exp(x))


@domain(a=(-2.0, 0.0), b=(0.5, 2.0), c=(-3.0, 0.3))
def logsumexp3(a, b, c):
    """Stable log(e^a + e^b + e^c): shift by the maximum."""
    mx = max(a, b, c)
    return mx + math.log(math.exp(a - mx) + math.exp(b - mx) + math.exp(c - mx))


@domain(w=(-2.0, 2.0), b=(-2.0, 2.0), x=(-2.0, 2.0), y=(0.0, 1.0))
def logistic_loss(w, b, x, y):
    z = w * x + b
    p = 1 / (1 + math.exp(-z))
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


@domain(w=(0.5, 1.5), b=(0.1, 1.0), x=(0.5, 2.0), y=(0.0, 1.0))
def logistic_loss_stable(w, b, x, y):
    """softplus(z) - y*z written with max/abs; z > 0.35 on this domain."""
    z = w * x + b
    return max(z, 0.0) + math.log1p(math.exp(-abs(z))) - y * z


@domain(r=(-3.0, -1.5), delta=(0.5, 1.0))
def huber_linear_regime(r, delta):
    """Huber loss q*(|r| - q/2) with q = min(|r|, delta); here |r| > delta."""
    a = abs(r)
    q = min(a, delta)
    return q * (a - 0.5 * q)


@domain(r=(-0.4, -0.1), delta=(0.6, 1.0))
def huber_quadratic_regime(r, delta):
    """The same Huber loss where |r| < delta."""
    a = abs(r)
    q = min(a, delta)
    return q * (a - 0.5 * q)


@domain(-1.5, 1.5)
def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


@domain(-2, 2)
def himmelblau(x, y):
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


@domain(r=(1.0, 2.0), eps=(0.5, 2.0), sigma=(0.9, 1.1))
def lennard_jones(r, eps, sigma):
    sr6 = (sigma / r) ** 6
    return 4 * eps * (sr6 * sr6 - sr6)


@domain(m1=(0.5, 2.0), m2=(0.5, 2.0), dx=(0.5, 2.0), dy=(-2.0, -0.5))
def gravity_potential(m1, m2, dx, dy):
    return -G * m1 * m2 / math.hypot(dx, dy)


@domain(A=(0.5, 2.0), gamma=(0.1, 1.0), omega=(1.0, 3.0), phi=(-1.0, 1.0), t=(0.0, 3.0))
def damped_oscillator(A, gamma, omega, phi, t):
    return A * math.exp(-gamma * t) * math.cos(omega * t + phi)


@domain(L=(0.5, 2.0), theta0=(0.1, 0.5))
def pendulum_period(L, theta0):
    return 2 * math.pi * math.sqrt(L / G) * (1 + theta0 ** 2 / 16)


@domain(P=(1.0, 3.0), V=(1.0, 3.0), T=(0.1, 1.0))
def van_der_waals(P, V, T):
    a = 0.364
    b = 0.04267
    return (P + a / V ** 2) * (V - b) - R_GAS * T


@domain(0.5, 5.0)
def planck_like(x):
    return x ** 3 / math.expm1(x)


@domain(lat1=(0.1, 0.5), lon1=(-1.0, 0.0), lat2=(0.8, 1.2), lon2=(0.5, 1.5))
def haversine(lat1, lon1, lat2, lon2):
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@domain(P=(100.0, 1000.0), r=(0.01, 0.1), t=(1.0, 10.0))
def compound_interest(P, r, t):
    return P * (1 + r / N) ** (N * t)


@domain(x=(-2.0, 2.0), w1=(-1.0, 1.0), w2=(-1.0, 1.0), y=(-1.0, 1.0))
def softmax2_cross_entropy(x, w1, w2, y):
    s1 = w1 * x
    s2 = w2 * x + y
    mx = max(s1, s2)
    lse = mx + math.log(math.exp(s1 - mx) + math.exp(s2 - mx))
    return lse - s1


@domain(-2, 2)
def normal_cdf_erfc(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


@domain(x=(0.6, 1.5), y=(0.6, 1.5))
def relu_layer(x, y):
    """Two hidden ReLUs that stay active on this domain, then a linear output."""
    h1 = max(0.0, x * 0.8 + y * 0.3 - 0.2)
    h2 = max(0.0, x * -0.3 + y * 0.9 + 0.1)
    out = 1.5 * h1 - 0.7 * h2 + 0.05
    return out * out


@domain(m=(0.5, 2.0), v=(-3.0, 3.0), h=(0.0, 10.0))
def mechanical_energy(m, v, h):
    """The parameter m shadows the module alias `m` (import math as m)."""
    return 0.5 * m * v ** 2 + m * G * h


SCALAR = [
    mul_add, sub_div, cubic, neg_square, unary_signs, power_negative_base,
    power_variable_exponent, reciprocals, fractional_powers, constant_base_powers,
    power_tower, left_associative, quotient_rule, true_division_of_ints,
    floordiv_scaled, floordiv_negative, floordiv_vars, floordiv_only,
    mod_constant, mod_vars, mod_negative_divisor, floordiv_and_mod,
    trig, inverse_trig, atan2_polar, hyperbolic, inverse_hyperbolic, exp_family,
    log_family, log_with_base, sqrt_and_pow, fabs_and_abs, abs_of_sine, abs_of_log, erf_erfc,
    named_constants, min_max_pair, min_max_three, min_max_last_wins,
    relu_and_clip, max_of_expressions, nested_calls,
    intermediates, reassign_same_name, augmented_assignments, augment_parameters,
    tuple_unpacking, swap_locals, swap_parameters, rotate_in_place,
    chained_assignment, annotated_assignment, with_docstring, with_defaults,
    keyword_only, unused_parameter, dead_code_uses_parameter, returns_parameter,
    returns_constant, returns_only_parameter, generated_name_collisions,
    collision_named_params, shadow_module_constant, module_constants, math_alias,
    from_imports, mixed_import_styles, long_chain, fan_out,
    neuron4, sigmoid, gaussian_logpdf, projectile_range, black_scholes_call,
    softplus, logsumexp3, logistic_loss, logistic_loss_stable,
    huber_linear_regime, huber_quadratic_regime, rosenbrock, himmelblau,
    lennard_jones, gravity_potential, damped_oscillator, pendulum_period,
    van_der_waals, planck_like, haversine, compound_interest,
    softmax2_cross_entropy, normal_cdf_erfc, relu_layer, mechanical_energy,
]
