"""A logistic calibration of exemplar scores: features -> probability, fitted by Newton's method
with a little L2 (a handful of features, a few hundred labelled exemplars: no library needed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Logistic:
    weights: np.ndarray
    bias: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(features @ self.weights + self.bias)))


def fit_logistic(features: np.ndarray, labels: np.ndarray, *, l2: float = 1e-2, steps: int = 50) -> Logistic:
    x = np.hstack([features, np.ones((len(features), 1))]).astype(np.float64)
    y = labels.astype(np.float64)
    w = np.zeros(x.shape[1])
    reg = np.full(x.shape[1], l2)
    reg[-1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        gradient = x.T @ (p - y) + reg * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(reg) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return Logistic(w[:-1].copy(), float(w[-1]))
