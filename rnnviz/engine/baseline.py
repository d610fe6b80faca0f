"""A classical baseline for time-series tasks: a linear autoregressive model AR(p), fitted by
least squares, scored on the held-out sequences beside the RNN.

The model, for one sequence with inputs x_1..x_T and targets y_1..y_T (one value each):

    ŷ_t = c + φ_1·x_t + φ_2·x_{t−1} + … + φ_p·x_{t−p+1}

It predicts the target at step t from the last p inputs up to and including step t — exactly
the inputs an RNN has seen when it outputs y_t. For next-value prediction (x_t = s_t,
y_t = s_{t+1}) this is the textbook AR(p): s_{t+1} = c + Σ_k φ_k s_{t−k+1}. For `echo` with
lag L it is exact from p = L+1 on.

Windows never cross from one sequence into another (the RNN starts each sequence from h_0 too),
so step t has a full window only when t ≥ p. The fit uses every full window of the training
sequences; the comparison scores both models on the same held-out steps p..T (the first p−1
steps of a sequence have no full window; they are left out for both).

Choosing p automatically: BIC over p = 1..p_max (p_max = min(10, T/2)) on the training fit,
    BIC(p) = n·ln(RSS_p / n) + (p + 1)·ln n,
with every p fitted on the same rows (steps p_max..T), so the values are comparable; the
smallest BIC wins. BIC rather than AIC because it penalises extra lags more (ln n > 2), so
on a clear case it picks the true order instead of a slightly longer one. One exception: when
some order already fits exactly (residuals below 1e-10 of the targets' variance, as for `echo`
or a noiseless AR series), ln(RSS) only measures rounding error, so the smallest exact order wins.

The verdict rests on the held-out points both models are scored on (sequences × steps p..T) and
says how many. It calls a winner only when the data can carry one:
  - fewer than MIN_POINTS = 30 points: "too few to call". 30 because the verdict's test (below)
    compares a mean of paired differences with its standard error, a normal approximation that
    is not to be trusted on fewer than ~30 pairs, and on so few one odd point decides the mean
    (144 monthly rows with a year held out leave 12 − p + 1 points per window: too few, and said);
  - a paired test on the squared errors d_i = e_RNN,i² − e_AR,i²: when |mean(d)| is under 2
    standard errors (t = mean / (sd/√n), |t| < 2, about 95 %), the errors cannot be told apart:
    "too close to call". Neighbouring steps of one sequence are correlated, so the real standard
    error is larger than this one: the test errs towards calling, never towards hiding a clear
    difference; 2 and 30 are floors, not proofs;
  - within 1 % of each other: "about the same".

Pure NumPy.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnnviz.engine.model import Model
from rnnviz.engine.run import run
from rnnviz.engine.tasks import Task

DEFAULT_MAX_ORDER = 10
MIN_POINTS = 30  # fewer held-out points than this: "too few to call" (module docstring)
SEPARATES = 2.0  # |paired t| below this: the two models' errors cannot be told apart


class NotApplicable(ValueError):
    """The AR baseline does not apply to this task or network; the message says why."""


@dataclass(frozen=True)
class ARFit:
    """A fitted AR(p): ŷ_t = c + Σ_k phi[k−1]·x_{t−k+1}."""

    p: int
    c: float
    phi: np.ndarray  # (p,)  phi[0] multiplies x_t, phi[1] x_{t−1}, ...
    train_mse: float  # mean squared residual on the training rows it was fitted on
    n_train: int  # rows (sequence × step) it was fitted on
    criterion: str = "user"  # "user" (p chosen by hand) or "bic"
    scores: dict = field(default_factory=dict)  # p -> BIC, when chosen by BIC

    def formula(self, digits: int = 3) -> str:
        """The fitted model as text: ŷ_t = 0.01 + 1.6·x_t − 0.8·x_{t−1}."""
        def lag(k: int) -> str:
            return "x_t" if k == 0 else f"x_{{t−{k}}}"

        parts = [f"{self.c:.{digits}f}"]
        for k, f in enumerate(self.phi):
            sign = "−" if f < 0 else "+"
            parts.append(f"{sign} {abs(f):.{digits}f}·{lag(k)}")
        return "ŷ_t = " + " ".join(parts)


def lag_matrix(x: np.ndarray, p: int, first: int | None = None) -> np.ndarray:
    """(T, N) inputs -> (T−first+1, N, p) windows: [t, n, k] = x_{t−k} for steps t = first..T
    (1-based; `first` defaults to p, the first step with a full window)."""
    T = x.shape[0]
    first = p if first is None else first
    if not 1 <= p <= first <= T:
        raise ValueError(f"need 1 ≤ p ≤ first step ≤ T, got p={p}, first={first}, T={T}")
    idx = np.arange(first - 1, T)  # 0-based steps
    return np.stack([x[idx - k] for k in range(p)], axis=-1)  # (T−first+1, N, p)


def _series(a: np.ndarray, what: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 3:
        if a.shape[2] != 1:
            raise NotApplicable(f"the AR baseline needs one value per step; the {what} have {a.shape[2]}")
        a = a[:, :, 0]
    if a.ndim != 2:
        raise ValueError(f"the {what} must be (T, N) or (T, N, 1), got shape {a.shape}")
    return a  # (T, N)


def _design(x: np.ndarray, p: int, first: int) -> np.ndarray:
    """Rows [1, x_t, x_{t−1}, ..., x_{t−p+1}] for steps first..T of every sequence: (n, p+1)."""
    L = lag_matrix(x, p, first).reshape(-1, p)  # (n, p)
    return np.hstack([np.ones((L.shape[0], 1)), L])


def _lstsq(x: np.ndarray, y: np.ndarray, p: int, first: int) -> tuple[np.ndarray, float, int]:
    """Least squares on steps first..T: (coefficients [c, φ_1..φ_p], RSS, rows)."""
    X = _design(x, p, first)  # (n, p+1)
    target = y[first - 1 :].reshape(-1)  # (n,) in the same order as X's rows
    beta, *_ = np.linalg.lstsq(X, target, rcond=None)
    resid = target - X @ beta
    return beta, float(resid @ resid), len(target)


def bic_scores(x: np.ndarray, y: np.ndarray, max_order: int) -> dict[int, float]:
    """BIC(p) = n·ln(RSS_p/n) + (p+1)·ln n for p = 1..max_order, all on the rows of steps
    max_order..T so that they compare the same data."""
    return _bic(_series(x, "inputs"), _series(y, "targets"), max_order)[0]


EXACT = 1e-10  # RSS below this share of the targets' total sum of squares counts as an exact fit


def _bic(x: np.ndarray, y: np.ndarray, max_order: int) -> tuple[dict[int, float], int | None]:
    """(BIC by p, the smallest p that fits exactly or None)."""
    scores, exact = {}, None
    tail = y[max_order - 1 :]
    tss = float(np.sum((tail - tail.mean()) ** 2))
    for p in range(1, max_order + 1):
        _, rss, n = _lstsq(x, y, p, max_order)
        scores[p] = float(n * np.log(max(rss, 1e-300) / n) + (p + 1) * np.log(n))
        if exact is None and rss <= EXACT * max(tss, 1e-300):
            exact = p
    return scores, exact


def max_order_for(T: int, n_seq: int, limit: int = DEFAULT_MAX_ORDER) -> int:
    """The longest AR order worth trying: at most `limit` and at most half the sequence
    length (so that at least half of every held-out sequence gets scored), leaving at least 2
    rows per coefficient in the fit."""
    p = max(1, min(limit, T // 2))
    while p > 1 and (T - p + 1) * n_seq < 2 * (p + 1):
        p -= 1
    return p


def fit_ar(x: np.ndarray, y: np.ndarray, p: int | None = None, max_order: int = DEFAULT_MAX_ORDER) -> ARFit:
    """Fit AR(p) by least squares on (T, N[, 1]) inputs and targets. p=None: choose it by BIC
    over 1..max_order (capped so the fit has enough rows)."""
    x, y = _series(x, "inputs"), _series(y, "targets")
    if x.shape != y.shape:
        raise ValueError(f"inputs {x.shape} and targets {y.shape} differ in shape")
    T, N = x.shape
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("the data hold NaN or Inf")
    scores: dict = {}
    if p is None:
        top = max_order_for(T, N, max_order)
        scores, exact = _bic(x, y, top)
        p = exact if exact is not None else min(scores, key=scores.get)
        criterion = "bic"
    else:
        criterion = "user"
    if not isinstance(p, (int, np.integer)) or p < 1:
        raise ValueError(f"the AR order p must be a whole number ≥ 1, got {p!r}")
    if p > T:
        raise ValueError(f"AR({p}) needs sequences of at least {p} steps; these have {T}")
    beta, rss, n = _lstsq(x, y, int(p), int(p))
    if n < p + 1:
        raise ValueError(f"AR({p}) has {p + 1} coefficients but only {n} training rows")
    return ARFit(int(p), float(beta[0]), beta[1:].copy(), rss / n, n, criterion, scores)


def predict(fit: ARFit, x: np.ndarray) -> np.ndarray:
    """AR predictions (T, N) for inputs (T, N[, 1]); NaN at steps 1..p−1 (no full window)."""
    x = _series(x, "inputs")
    T, N = x.shape
    out = np.full((T, N), np.nan)
    if T >= fit.p:
        out[fit.p - 1 :] = fit.c + lag_matrix(x, fit.p) @ fit.phi
    return out


def mse(pred: np.ndarray, target: np.ndarray, first: int = 1) -> float:
    """Mean squared error over steps first..T (1-based) of every sequence."""
    d = np.asarray(pred, dtype=np.float64)[first - 1 :] - np.asarray(target, dtype=np.float64)[first - 1 :]
    return float(np.mean(d * d))


def applicability(task: Task | None, model: Model | None = None) -> str | None:
    """None when the baseline applies to this task (and network), else why not, in words."""
    if task is None:
        return "there is no task: the baseline needs training and held-out sequences"
    if task.loss != "mse":
        return (f"“{task.title}” is a classification task ({task.loss}); an AR model predicts numbers, "
                "so there is nothing to compare")
    if task.architecture != "many-to-many":
        return (f"“{task.title}” is {task.architecture}; the AR baseline needs a target at every step "
                "(many-to-many), as in next-value prediction")
    if task.input_size != 1 or task.output_size != 1:
        return (f"the AR baseline needs one input and one output per step; this task has "
                f"{task.input_size} input(s) and {task.output_size} output(s)")
    if task.x_val is None or task.y_val is None or task.x_val.shape[1] == 0:
        return "this task has no held-out sequences to compare on (import it with a held-out part)"
    if model is not None and (model.architecture != "many-to-many" or model.loss != "mse"
                              or model.input_size != 1 or model.output_size != 1):
        return "the network does not fit this task's data (it must be many-to-many, mse, one input, one output)"
    return None


@dataclass(frozen=True)
class Comparison:
    """AR(p) against the RNN on the held-out sequences, both scored on steps first..T."""

    fit: ARFit
    first: int  # first scored step (1-based) = p
    steps: int  # T
    sequences: int  # held-out sequences
    ar_mse: float
    rnn_mse: float
    rnn_mse_all: float  # the RNN on every held-out step (the engine's held-out loss)
    ar_pred: np.ndarray  # (T, M) NaN before step p
    rnn_pred: np.ndarray  # (T, M)
    target: np.ndarray  # (T, M)
    x: np.ndarray  # (T, M)

    @property
    def points(self) -> int:
        """Held-out points the verdict rests on: sequences × scored steps (first..T)."""
        return self.sequences * (self.steps - self.first + 1)

    @property
    def paired_t(self) -> float:
        """t = mean(d) / (sd(d)/√n) of the paired differences d = e_RNN² − e_AR² over the scored
        points: negative when the RNN's errors are smaller. ±inf when every d is the same non-zero
        value, 0 when all are 0, NaN with fewer than 2 points or non-finite errors."""
        s = slice(self.first - 1, None)
        d = ((self.rnn_pred[s] - self.target[s]) ** 2 - (self.ar_pred[s] - self.target[s]) ** 2).ravel()  # (points,)
        if d.size < 2 or not np.all(np.isfinite(d)):
            return float("nan")
        m, sd = float(d.mean()), float(d.std(ddof=1))
        if sd == 0:
            return 0.0 if m == 0 else float(np.copysign(np.inf, m))
        return m / (sd / np.sqrt(d.size))

    @property
    def winner(self) -> str:
        """"rnn", "ar" or "tie" (within 1% of each other), from the errors alone; `verdict` also
        asks whether there are enough points and whether the paired test separates them."""
        lo, hi = sorted((self.rnn_mse, self.ar_mse))
        if hi == 0 or (hi - lo) <= 0.01 * hi:
            return "tie"
        return "rnn" if self.rnn_mse < self.ar_mse else "ar"

    @property
    def margin(self) -> float:
        """How much lower the winner's error is, as a fraction of the loser's (0 for a tie)."""
        lo, hi = sorted((self.rnn_mse, self.ar_mse))
        return 0.0 if hi == 0 else (hi - lo) / hi

    @property
    def callable(self) -> bool:
        """Whether the verdict names a winner: enough points, and the paired test separates them."""
        return (self.points >= MIN_POINTS and self.winner != "tie"
                and abs(self.paired_t) >= SEPARATES)

    def verdict(self) -> str:
        ar = f"AR({self.fit.p})"
        n = self.points
        where = f"On this held-out data ({n} point{'s' if n != 1 else ''})"
        nums = f"the RNN's error is {self.rnn_mse:.4g}, {ar}'s is {self.ar_mse:.4g}"
        if not (np.isfinite(self.rnn_mse) and np.isfinite(self.ar_mse)):
            return f"{where} {nums}: no verdict (the RNN's outputs are not finite)"
        if n < MIN_POINTS:
            return f"{where} {nums}: too few to call (a verdict needs at least {MIN_POINTS} held-out points)"
        w = self.winner
        if w == "tie":
            return f"{where} {nums}: about the same (within 1%)"
        t = self.paired_t
        if abs(t) < SEPARATES:
            return (f"{where} {nums}: too close to call (the paired difference of squared errors is "
                    f"{abs(t):.2g} standard errors from 0; a verdict needs {SEPARATES:g})")
        better = "the RNN" if w == "rnn" else ar
        return f"{where} {nums}: {better} is better by {self.margin:.0%}"


def compare(task: Task, model: Model, p: int | None = None, max_order: int = DEFAULT_MAX_ORDER,
            fit: ARFit | None = None) -> Comparison:
    """Fit AR(p) on the task's training part (or use `fit`) and score it and the RNN on the
    held-out part. Raises NotApplicable (with the reason) when the baseline does not apply."""
    why = applicability(task, model)
    if why is not None:
        raise NotApplicable(why)
    if fit is None:
        fit = fit_ar(task.x_train, task.y_train, p, max_order)
    x = _series(task.x_val, "inputs")  # (T, M)
    target = _series(task.y_val, "targets")  # (T, M)
    ar_pred = predict(fit, x)
    trace = run(model, task.x_val, task.y_val)
    rnn_pred = np.asarray(trace.y[:, :, 0], dtype=np.float64)  # (T, M)
    T, M = x.shape
    return Comparison(
        fit=fit, first=fit.p, steps=T, sequences=M,
        ar_mse=mse(ar_pred, target, fit.p), rnn_mse=mse(rnn_pred, target, fit.p),
        rnn_mse_all=float(trace.loss), ar_pred=ar_pred, rnn_pred=rnn_pred, target=target, x=x,
    )
