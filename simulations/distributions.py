"""Julia Distributions.jl expressions in JEMSS configs (`Exponential(1/(18.8*24))`) as samplers."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


class DistributionError(ValueError):
    """A distribution expression cannot be read."""


_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


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

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """`size` draws (Categorical gives 1-based category numbers, Bernoulli 0/1)."""
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
        if self.name == "Bernoulli":
            return (rng.random(size) < _f(p[0])).astype(float)
        if self.name == "Categorical":
            probs = np.asarray(p[0], dtype=float)
            return rng.choice(np.arange(1, probs.size + 1), size=size, p=probs / probs.sum())
        raise DistributionError(f"unsupported distribution {self.name}")  # pragma: no cover


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
    "Bernoulli": 1,
    "Categorical": 1,
}


def parse_distribution(text: str) -> Distribution:
    """Parse `Name(args...)` for the distributions JEMSS configs use."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise DistributionError(f"{text!r} is not a distribution expression") from None
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)) or tree.keywords:
        raise DistributionError(f"{text!r} is not of the form Name(arguments)")
    name = tree.func.id
    if name not in _ARITY:
        raise DistributionError(f"{text!r}: unsupported distribution (one of {sorted(_ARITY)})")
    if len(tree.args) != _ARITY[name]:
        raise DistributionError(f"{text!r}: {name} takes {_ARITY[name]} argument(s)")
    params: list[float | tuple[float, ...]] = []
    for arg in tree.args:
        value = _value(arg, text)
        params.append(tuple(value) if isinstance(value, list) else value)
    if name == "Categorical" and not isinstance(params[0], tuple):
        raise DistributionError(f"{text!r}: Categorical takes a [list] of probabilities")
    return Distribution(name, tuple(params))
