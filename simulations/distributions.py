"""Julia Distributions.jl expressions in JEMSS configs (`Exponential(1/(18.8*24))`) as samplers.

Parameters as Distributions.jl defines them: Exponential(θ) scale θ (mean θ); Weibull(α, θ)
shape α, scale θ; Gamma(α, θ) shape α, scale θ; LogNormal(μ, σ) of the log; Normal(μ, σ);
Uniform(a, b); Bernoulli(p); Categorical([p...]); Truncated(d, l, u) or truncated(d, l, u)
(also with `nothing` or `lower=`/`upper=` for an open side): d restricted to [l, u].
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np


class DistributionError(ValueError):
    """A distribution expression cannot be read."""


_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.BitXor: operator.pow,  # Julia's `^` is a power
}
#: Names a Julia expression may use as numbers.
_NAMES = {"Inf": math.inf, "pi": math.pi, "π": math.pi}


def _value(node: ast.expr, text: str) -> float | list[float]:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _number(node.operand, text)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_number(node.left, text), _number(node.right, text))
    if isinstance(node, ast.List):
        return [_number(e, text) for e in node.elts]
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    raise DistributionError(f"{text!r}: only numbers, arithmetic and [lists] are understood")


def _number(node: ast.expr, text: str) -> float:
    value = _value(node, text)
    if isinstance(value, list):
        raise DistributionError(f"{text!r}: a list where a number was expected")
    return value


@dataclass(frozen=True)
class Distribution:
    """A named distribution with its parameters (Distributions.jl parameterisation)."""

    name: str
    params: tuple[float | tuple[float, ...], ...]
    #: Truncation to [lower, upper] (Truncated(d, l, u)); infinite ends are open.
    lower: float = -math.inf
    upper: float = math.inf

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """`size` draws (Categorical gives 1-based category numbers, Bernoulli 0/1)."""
        if self.lower > -math.inf or self.upper < math.inf:
            return self._truncated(rng, size)
        p = self.params
        if self.name == "Exponential":
            return rng.exponential(_f(p[0]), size)
        if self.name == "Normal":
            mu, sigma = _f(p[0]), _f(p[1])
            return np.full(size, mu) if sigma == 0 else rng.normal(mu, sigma, size)
        if self.name == "LogNormal":
            return rng.lognormal(_f(p[0]), _f(p[1]), size)
        if self.name == "Uniform":
            return rng.uniform(_f(p[0]), _f(p[1]), size)
        if self.name == "Gamma":
            return rng.gamma(_f(p[0]), _f(p[1]), size)
        if self.name == "Weibull":
            return _f(p[1]) * rng.weibull(_f(p[0]), size)
        if self.name == "Bernoulli":
            return (rng.random(size) < _f(p[0])).astype(float)
        if self.name == "Categorical":
            probs = np.asarray(p[0], dtype=float)
            return rng.choice(np.arange(1, probs.size + 1), size=size, p=probs / probs.sum())
        raise DistributionError(f"unsupported distribution {self.name}")  # pragma: no cover


    def _truncated(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Inverse-CDF draws restricted to [lower, upper] (exact, whatever mass is left)."""
        base = self._scipy()
        low, high = base.cdf(self.lower), base.cdf(self.upper)
        if not high > low:
            raise DistributionError(f"{self.name} has no probability in "
                                    f"[{self.lower}, {self.upper}]")
        u = rng.uniform(low, high, size)
        draws: np.ndarray = np.clip(np.asarray(base.ppf(u), dtype=float), self.lower, self.upper)
        return draws

    def _scipy(self) -> Any:
        """The same continuous distribution in scipy (for truncation)."""
        from scipy import stats

        p = [_f(x) for x in self.params]
        frozen: dict[str, Callable[[], Any]] = {
            "Exponential": lambda: stats.expon(scale=p[0]),
            "Weibull": lambda: stats.weibull_min(p[0], scale=p[1]),
            "Gamma": lambda: stats.gamma(p[0], scale=p[1]),
            "LogNormal": lambda: stats.lognorm(p[1], scale=math.exp(p[0])),
            "Normal": lambda: stats.norm(p[0], p[1]),
            "Uniform": lambda: stats.uniform(p[0], p[1] - p[0]),
        }
        if self.name not in frozen:
            raise DistributionError(f"Truncated({self.name}(...)) is not supported")
        return frozen[self.name]()


def _f(value: float | tuple[float, ...]) -> float:
    if isinstance(value, tuple):
        raise DistributionError("a list where a number was expected")
    return value


_ARITY = {
    "Exponential": 1,
    "Normal": 2,
    "LogNormal": 2,
    "Uniform": 2,
    "Gamma": 2,
    "Weibull": 2,
    "Bernoulli": 1,
    "Categorical": 1,
}


def parse_distribution(text: str) -> Distribution:
    """Parse `Name(args...)` for the distributions JEMSS configs use."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise DistributionError(f"{text!r} is not a distribution expression") from None
    return _distribution(tree, text)


def _distribution(tree: ast.expr, text: str) -> Distribution:
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)):
        raise DistributionError(f"{text!r} is not of the form Name(arguments)")
    name = tree.func.id
    if name in ("Truncated", "truncated"):
        return _truncation(tree, text)
    if tree.keywords:
        raise DistributionError(f"{text!r}: {name} takes no keyword arguments")
    if name not in _ARITY:
        raise DistributionError(
            f"{text!r}: unsupported distribution (one of {sorted(_ARITY)} or Truncated)"
        )
    if len(tree.args) != _ARITY[name]:
        raise DistributionError(f"{text!r}: {name} takes {_ARITY[name]} argument(s)")
    params: list[float | tuple[float, ...]] = []
    for arg in tree.args:
        value = _value(arg, text)
        params.append(tuple(value) if isinstance(value, list) else value)
    if name == "Categorical" and not isinstance(params[0], tuple):
        raise DistributionError(f"{text!r}: Categorical takes a [list] of probabilities")
    first = params[0]
    if name == "Categorical" and isinstance(first, tuple) and any(x < 0 for x in first):
        raise DistributionError(f"{text!r}: Categorical probabilities must be >= 0")
    return Distribution(name, tuple(params))


def _truncation(tree: ast.Call, text: str) -> Distribution:
    """Truncated(d, l, u), truncated(d, l, u), `nothing` or lower=/upper= for open sides."""
    if not tree.args or len(tree.args) not in (1, 3):
        raise DistributionError(f"{text!r}: Truncated takes (distribution, lower, upper)")
    inner = _distribution(tree.args[0], text)
    if inner.name in ("Bernoulli", "Categorical"):
        raise DistributionError(f"{text!r}: only continuous distributions can be truncated")
    bounds = {"lower": -math.inf, "upper": math.inf}
    for key, arg in zip(("lower", "upper"), tree.args[1:], strict=False):
        if not (isinstance(arg, ast.Constant) and arg.value is None) and not (
            isinstance(arg, ast.Name) and arg.id == "nothing"
        ):
            bounds[key] = _number(arg, text)
    for keyword in tree.keywords:
        if keyword.arg not in bounds:
            raise DistributionError(f"{text!r}: Truncated takes lower= and upper= only")
        bounds[keyword.arg] = _number(keyword.value, text)
    if not bounds["lower"] < bounds["upper"]:
        raise DistributionError(f"{text!r}: lower must be below upper")
    return replace(inner, lower=bounds["lower"], upper=bounds["upper"])
