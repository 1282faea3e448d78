"""A small classifier, trained from scratch in numpy: the demo's experiment.

Two-class points on three rings ("topics": inner, middle, outer) with label noise;
a one-hidden-layer network trained by full-batch gradient descent. It logs a
learning curve, summary metrics, one record per test example and its weights.
"""

import numpy as np
from numpy.typing import NDArray

from hunchlab import Run

Floats = NDArray[np.float64]


def make_data(n: int, noise: float, rng: np.random.Generator) -> tuple[Floats, Floats, NDArray[np.int64]]:
    """Points on three rings; the class flips from ring to ring, so a linear model fails."""
    ring = rng.integers(0, 3, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = 1.0 + ring + rng.normal(0, noise, n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)  # (n, 2)
    y = (ring % 2).astype(float)
    return x, y, ring


def main(run: Run) -> None:
    cfg = run.config
    rng = np.random.default_rng(run.seed)
    x, y, _ = make_data(cfg.n_train, cfg.noise, rng)
    xt, yt, ring_t = make_data(cfg.n_test, cfg.noise, np.random.default_rng(10_000 + run.seed))
    w1 = rng.normal(0, 1.0, (2, cfg.model.width))  # (2, H)
    b1 = np.zeros(cfg.model.width)
    w2 = rng.normal(0, 1.0 / np.sqrt(cfg.model.width), cfg.model.width)  # (H,)
    b2 = 0.0

    def forward(inputs: Floats) -> tuple[Floats, Floats]:
        """The hidden activations (n, H) and each point's probability of class 1 (n,)."""
        h = np.tanh(inputs @ w1 + b1)  # (n, H)
        return h, 1 / (1 + np.exp(-(h @ w2 + b2)))  # (n,)

    for step in range(cfg.steps):
        h, p = forward(x)
        loss = -np.mean(y * np.log(p + 1e-9) + (1 - y) * np.log(1 - p + 1e-9))
        g = (p - y) / len(y)  # dloss/dlogit, (n,)
        gh = np.outer(g, w2) * (1 - h**2)  # (n, H)
        w2 -= cfg.lr * h.T @ g
        b2 -= cfg.lr * g.sum()
        w1 -= cfg.lr * x.T @ gh
        b1 -= cfg.lr * gh.sum(0)
        if step % 10 == 0 or step == cfg.steps - 1:
            _, pt = forward(xt)
            run.log({"loss": loss, "train_acc": np.mean((p > 0.5) == y), "test_acc": np.mean((pt > 0.5) == yt)},
                    step=step)

    _, pt = forward(xt)
    correct = (pt > 0.5) == yt
    run.summary["acc"] = float(correct.mean())
    run.summary["loss"] = float(loss)
    topics = ("inner", "middle", "outer")
    for i in range(len(yt)):
        run.example(id=f"t{i:03d}", input=[round(float(v), 3) for v in xt[i]], output=int(pt[i] > 0.5),
                    target=int(yt[i]), correct=bool(correct[i]), score=float(pt[i] if yt[i] else 1 - pt[i]),
                    topic=topics[ring_t[i]])
    np.savez(run.dir / "weights.npz", w1=w1, b1=b1, w2=w2, b2=b2)
    run.artifact(run.dir / "weights.npz")
    print(f"test accuracy {correct.mean():.3f} (width {cfg.model.width}, lr {cfg.lr}, {cfg.steps} steps)")
