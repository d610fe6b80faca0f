"""A trainer that advances one iteration at a time, so a GUI (or a CLI loop) can drive it.

`step()` runs one forward + BPTT pass on a batch, checks every number, clips and updates.
Reset gives back the initial weights and the same random stream, so the same seed gives the
same run.

The conventions of hand-written RNNs such as Karpathy's min-char-rnn are settings here:
`loss_reduction` "sum" (the per-step losses added up over time, not averaged: it sets the
model's own `loss_reduction`, so every pass of it, the views' trace too, follows), `clip_mode`
"value" (each gradient entry clipped to [-clip, clip]), `stateful` (each batch starts from the
previous batch's last hidden state, min-char-rnn's `hprev`; gradients do not cross that
boundary, and batches then come in order, the state starting again from h_0 when the data
start over) and `adagrad_eps` "inside" (g/√(s + 1e-8)). Nothing here knows about threads: a caller that runs it on a worker thread should
hand copies of what it reads to other threads.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.engine.flat import Layout, largest_abs
from rnnviz.engine.guards import (
    DivergenceError,
    DivergenceLimits,
    NonFiniteError,
    check_on_divergence,
    entry_name,
    first_nonfinite_step,
    largest_entries,
)
from rnnviz.engine.history import History
from rnnviz.engine.inputs import prepare_inputs, prepare_targets
from rnnviz.engine.model import Model, check_loss_reduction
from rnnviz.engine.optim import (
    Optimizer,
    check_adagrad_eps,
    check_clip,
    check_clip_mode,
    check_lr,
    clip_flat,
    make_optimizer,
)
from rnnviz.engine.run import forward_loss, run
from rnnviz.engine.trace import Trace


@dataclass
class StepResult:
    iteration: int
    loss: float
    grad_norm: float  # global gradient norm before clipping
    clipped: bool
    trace: Trace  # the batch's trace (taken before the update)
    warning: DivergenceError | None = None  # warn mode: the run began to diverge at this step


@dataclass
class _GoodState:
    """The weights and optimizer state before one update: where a divergence goes back to.
    Its arrays are one of the trainer's two rollback slots, overwritten two updates later."""

    params: np.ndarray  # (layout.size,) the weights laid end to end (flat.Layout)
    optimizer: tuple[list[np.ndarray] | None, int]  # Optimizer.save_flat(): its flat buffers, its step count
    owner: Optimizer  # the optimizer that state is of
    batch: tuple  # Trainer._batch_state(): where the mini-batch order stood before that iteration's batch


class _Buffers:
    """The flat arrays one iteration works in, allocated once per layout: the gradients g, the
    weights p, a scratch array for |·|, and two rollback slots (weights + optimizer buffers).
    Two slots, because the last good state (the one before the latest update) must survive the
    copy taken before the next update until that update is known to be good."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.g = layout.empty()  # (n,) gradients
        self.p = layout.empty()  # (n,) weights
        self.scratch = layout.empty()  # (n,)
        self.grad_views = layout.views(self.g)  # name -> the gradient, shaped as the parameter
        self.square_views = list(layout.views(self.scratch).values())  # g² by parameter, for the norm
        self.grad_keys = tuple((name, "grad_" + name) for name in layout.names)
        self.slots: list[list] = [[layout.empty(), None], [layout.empty(), None]]  # [params, optimizer arrays]


class Trainer:
    """Trains `model` (in place) on inputs (T, N, I) and targets in the engine's layout."""

    def __init__(
        self,
        model: Model,
        x: np.ndarray,
        targets: np.ndarray,
        *,
        optimizer: str = "adam",
        lr: float = 0.01,
        momentum: float = 0.0,
        clip: float | None = None,
        batch_size: int | None = None,
        seed: int = 0,
        tbptt: int | None = None,
        x_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        val_every: int = 10,
        history: History | None = None,
        on_divergence: str = "stop",
        limits: DivergenceLimits | None = None,
        loss_reduction: str | None = None,
        clip_mode: str = "norm",
        stateful: bool = False,
        adagrad_eps: str = "outside",
    ) -> None:
        """loss_reduction: "mean" / "sum" over time steps, set on the model (None: the model's own);
        clip_mode: "norm" / "value" (optim.CLIP_MODES); stateful: carry the hidden state from one
        batch to the next; adagrad_eps: "outside" / "inside" the square root (optim.ADAGRAD_EPS)."""
        self.model = model
        if loss_reduction is not None:
            model.loss_reduction = check_loss_reduction(loss_reduction)
        self.clip_mode = check_clip_mode(clip_mode)
        self.stateful = bool(stateful)
        self.adagrad_eps = check_adagrad_eps(adagrad_eps)
        self.x = prepare_inputs(model, x)  # (T, N, I)
        T, N, _ = self.x.shape
        self.targets = prepare_targets(model, targets, T, N)
        if batch_size is not None and not 1 <= batch_size <= N:
            raise ValueError(f"the batch size must lie between 1 and the {N} training sequences, got {batch_size}")
        if x_val is not None and y_val is not None:
            self.x_val = prepare_inputs(model, x_val)
            self.y_val = prepare_targets(model, y_val, *self.x_val.shape[:2])
        else:
            self.x_val = self.y_val = None
        self.optimizer_name = optimizer
        self.lr = lr
        self.momentum = momentum
        self.clip = check_clip(clip)
        self.batch_size = batch_size
        self.seed = seed
        self.tbptt = tbptt
        self.val_every = val_every
        self.history = history or History()
        self.on_divergence = check_on_divergence(on_divergence)
        # None: the default limits, scaled to this data when it is not normalised
        self.limits = limits if limits is not None else DivergenceLimits().for_data(self.x, self.targets, model.loss)
        self._initial = model.copy()
        self._flat: _Buffers | None = None  # the iteration's flat arrays (_buffers), made once per layout
        self.reset()

    # control ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the initial weights, a fresh optimizer and the same random stream."""
        self.model.set_params(self._initial.params())
        self.optimizer: Optimizer = make_optimizer(self.optimizer_name, self.lr, self.momentum, self.adagrad_eps)
        self.rng = np.random.default_rng(self.seed)
        self.carried: dict[str, np.ndarray] = {}  # stateful: "h" (B, H) and an LSTM's "c", the last batch's end
        self.iteration = 0
        self._order = np.empty(0, dtype=np.int64)
        self._pos = 0
        self.history.clear()
        self._forget_divergence()

    def _forget_divergence(self) -> None:
        """A new start for the divergence checks: starting loss, last good state, warning."""
        self.divergence: DivergenceError | None = None  # warn mode: the one warning given
        self._start_loss: float | None = None  # the run's first loss, the loss check's reference
        self._good: _GoodState | None = None  # the state before the last update made

    def set_lr(self, lr: float) -> None:
        self.lr = check_lr(lr)
        self.optimizer.lr = lr

    def set_clip(self, clip: float | None) -> None:
        self.clip = check_clip(clip)

    def set_clip_mode(self, mode: str) -> None:
        self.clip_mode = check_clip_mode(mode)

    def set_loss_reduction(self, reduction: str) -> None:
        """Sum or average the per-step losses from the next iteration on. The loss changes scale,
        so the divergence check takes its next loss as the new start."""
        if check_loss_reduction(reduction) != self.model.loss_reduction:
            self.model.loss_reduction = reduction
            self._start_loss = None

    def set_stateful(self, on: bool) -> None:
        """Carry the hidden state between batches (or stop: the next batch starts from h_0)."""
        self.stateful = bool(on)
        self.carried = {}

    def set_adagrad_eps(self, placement: str) -> None:
        """Adagrad's epsilon outside or inside the square root (its accumulators kept)."""
        self.adagrad_eps = check_adagrad_eps(placement)
        if hasattr(self.optimizer, "eps_placement"):
            fresh = make_optimizer("adagrad", self.lr, adagrad_eps=placement)
            self.optimizer.eps, self.optimizer.eps_placement = fresh.eps, fresh.eps_placement

    def set_on_divergence(self, mode: str) -> None:
        """"stop" (raise DivergenceError, weights before the explosion kept) or "warn" (warn
        once, in a StepResult, and go on). Switching to stop watches again at once."""
        self.on_divergence = check_on_divergence(mode)
        if mode == "stop":
            self.divergence = None

    def set_momentum(self, momentum: float) -> None:
        self.momentum = momentum
        if hasattr(self.optimizer, "momentum"):
            self.optimizer.momentum = momentum

    # one iteration --------------------------------------------------------------------------
    def next_batch(self) -> np.ndarray:
        """Indices of the next mini-batch (all sequences for full batch)."""
        N = self.x.shape[1]
        if self.batch_size is None or self.batch_size >= N:
            return np.arange(N)
        if self._pos + self.batch_size > len(self._order):
            # stateful: in order, each batch continuing the last, and the state from h_0 again
            self._order = np.arange(N) if self.stateful else self.rng.permutation(N)
            self._pos = 0
            self.carried = {}
        idx = self._order[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        return idx

    def step(self) -> StepResult:
        """One iteration. Raises NonFiniteError on NaN/Inf, and DivergenceError when the loss,
        a gradient or a weight goes past `limits` (guards.py), with the weights left at the last
        good ones. In warn mode the first divergence is reported in the StepResult's `warning`
        (and kept in `divergence`) and training goes on, checked for NaN/Inf only."""
        it = self.iteration + 1
        self._batch_at_start = self._batch_state()  # a step that fails gives its batch back
        idx = self.next_batch()
        if len(idx) == self.x.shape[1]:  # full batch: the data as they are, no gathered copy
            x, targets = self.x, self.targets
        else:
            x, targets = self.x[:, idx], self.targets[:, idx]
        start = self._carried_start(len(idx))
        trace = run(self.model, x, targets, tbptt=self.tbptt, **start)
        trace.h0_carried = bool(start)
        loss = trace.loss
        if not np.isfinite(loss):
            what, t = first_nonfinite_step(trace)
            self._set_batch_state(self._batch_at_start)
            raise NonFiniteError(it, "the loss" if t is None or what == "loss_t" else f"the forward pass ({what})", t)
        buf = self._buffers()
        layout, g, p = buf.layout, buf.g, buf.p
        for name, grad_name in buf.grad_keys:  # the gradients laid end to end: g (n,)
            g[layout.slices[name]] = trace.grads[grad_name].ravel()
        grads = buf.grad_views  # name -> view of g
        g_max = largest_abs(g, buf.scratch)  # one pass: the NaN/Inf check too
        if not np.isfinite(g_max):
            what, t = first_nonfinite_step(trace, backward=True)
            self._set_batch_state(self._batch_at_start)
            raise NonFiniteError(it, f"the gradients ({what})", t)
        warning = None
        watch = self.divergence is None  # warn mode watches until its one warning
        if watch:
            if self._start_loss is None:
                self._start_loss = loss
            warning = self._check_loss_and_grads(it, loss, grads, g_max)
        params = self.model.params()
        with np.errstate(over="ignore", invalid="ignore"):
            norm = clip_flat(g, self.clip, self.clip_mode, buf.scratch, buf.square_views)
            layout.gather(params, p)
            # the weights and the optimizer's buffers and step count before the update, so that
            # a failed update is undone and the run carries on (say with a lower rate) as if it
            # had never been tried; kept afterwards as the last good state.  Copied into the
            # rollback slot the last good state does not use: no allocation, no deep copy.
            slot = buf.slots[1 if self._good is not None and self._good.params is buf.slots[0][0] else 0]
            np.copyto(slot[0], p)
            saved = self.optimizer.save_flat(layout, slot[1])
            slot[1] = saved[0] if saved[0] is not None else slot[1]
            good = _GoodState(slot[0], saved, self.optimizer, self._batch_at_start)
            self.optimizer.step_flat(p, g, layout)
            layout.scatter(p, params)
        w_max = largest_abs(p, buf.scratch)
        if not np.isfinite(w_max):
            self._go_back(good)
            raise NonFiniteError(it, f"the updated weights ({largest_entries(params)[0]})", None)
        if watch and warning is None and w_max > self.limits.max_weight:
            limit = self.limits.max_weight
            w_name = largest_entries(params)[0]
            warning = self._diverged(
                DivergenceError(it, f"the {'bias' if w_name.startswith('b') else 'weight'} {entry_name(w_name, params[w_name])}",
                                w_max, limit,
                                f"past the limit of {limit:g} for any weight"), good)
        self._good = good
        self.iteration = it
        if self.stateful:  # the next batch starts where this one ended; no gradient crosses
            self.carried = {"h": trace.h[-1].copy(), **({"c": trace.c[-1].copy()} if trace.c is not None else {})}
        clipped = bool(self.clip and (g_max if self.clip_mode == "value" else norm) > self.clip)
        self.history.loss.append(it, loss)
        self.history.grad_norm.append(it, norm)
        if self.x_val is not None and (it % self.val_every == 0 or it == 1):
            self.history.val_loss.append(it, self.validation_loss())
        self.history.snapshots.offer(it, params)
        return StepResult(it, loss, norm, clipped, trace, warning)

    def _buffers(self) -> _Buffers:
        """This iteration's flat arrays, made again only when the parameters change layout."""
        params = self.model.params()
        if self._flat is None or not self._flat.layout.fits(params):
            self._flat = _Buffers(Layout(params))
            self._good = None  # a rollback slot of another layout cannot be restored
        return self._flat

    def _carried_start(self, B: int) -> dict[str, np.ndarray]:
        """run's h0 (and c0) for a batch of B sequences: the carried state when stateful and it
        fits (a batch of another size starts from h_0), else nothing (the model's h_0)."""
        if not self.stateful or "h" not in self.carried or self.carried["h"].shape[0] != B:
            return {}
        return {"h0": self.carried["h"], **({"c0": self.carried["c"]} if "c" in self.carried else {})}

    def carried_starts(self) -> dict[int, dict[str, np.ndarray]]:
        """The sequences the next iteration starts from a carried state, each with that state:
        {sequence: {"h0": (H,), and an LSTM's "c0": (H,)}} (copies), so a view of one sequence
        can show the h_0 the next iteration will use. Empty when it starts from the model's h_0
        (not stateful, nothing carried yet, or the data start over)."""
        if not self.stateful or "h" not in self.carried:
            return {}
        N = self.x.shape[1]
        if self.batch_size is None or self.batch_size >= N:
            seqs = np.arange(N)
        elif self._pos + self.batch_size > len(self._order):
            return {}  # the next batch starts the data over, from h_0
        else:
            seqs = self._order[self._pos : self._pos + self.batch_size]
        if len(seqs) != self.carried["h"].shape[0]:
            return {}
        return {int(s): {("h0" if k == "h" else "c0"): v[j].copy() for k, v in self.carried.items()}
                for j, s in enumerate(seqs)}

    # divergence ----------------------------------------------------------------------------------
    def _check_loss_and_grads(self, it: int, loss: float, grads: dict[str, np.ndarray],
                              g_max: float) -> DivergenceError | None:
        """The checks before the update: the loss against its start, the gradients against
        their bound (an unclipped run only: clipping bounds the update however large they are)."""
        limits = self.limits
        limit = limits.loss_limit(self._start_loss)
        if loss > limit:
            # these weights already give the exploded loss: the update that made them is undone
            # too (self._good is the state before it), and its iteration with it
            return self._diverged(
                DivergenceError(it, "the loss", loss, limit,
                                f"over {limits.loss_factor:g}× its starting value {self._start_loss:.3g}"),
                self._good, undo_last=True)
        if self.clip is None and g_max > limits.max_grad:
            g_name = largest_entries(grads)[0]
            return self._diverged(
                DivergenceError(it, f"the gradient of {entry_name(g_name, grads[g_name])}", g_max, limits.max_grad,
                                f"past the limit of {limits.max_grad:g} for any gradient entry"), None)
        return None

    def _diverged(self, found: DivergenceError, back: _GoodState | None, undo_last: bool = False) -> DivergenceError:
        """Warn mode: remember the warning and return it. Stop mode: go back to `back` (None:
        the weights as they are, no update made), and one iteration more with `undo_last`, then
        raise `found` saying which weights are kept."""
        if self.on_divergence == "warn":
            self.divergence = found.warning()
            return self.divergence
        kept = self.iteration
        if back is not None:
            self._go_back(back)
            if undo_last and self.iteration > 0:
                self._forget_iteration(self.iteration)
                self.iteration -= 1
                kept = self.iteration
            self._good = None  # what came before it was not kept
        else:
            self._set_batch_state(self._batch_at_start)  # no update made: this step's batch is given back
        raise DivergenceError(found.iteration, found.what, found.value, found.limit, found.reason,
                              "the initial weights" if kept == 0 else f"the weights of iteration {kept}")

    def _go_back(self, good: _GoodState) -> None:
        layout = self._flat.layout
        self.model.set_params(layout.views(good.params))
        if self.optimizer is good.owner:  # not if the optimizer was swapped for another since
            self.optimizer.restore_flat(layout, good.optimizer)
        self._set_batch_state(good.batch)  # the mini-batch order too: the next step draws that batch again

    def _batch_state(self) -> tuple:
        """Where the mini-batch order stands: the random generator's state, the epoch's order,
        the position in it, and (stateful) the carried state (None for the generator's state
        with full batches). next_batch and step replace the
        order and the carried dict, never change them in place: no copies needed."""
        # full batch: the generator is never drawn from, and reading its state builds a dict (µs a step)
        full = self.batch_size is None or self.batch_size >= self.x.shape[1]
        return None if full else self.rng.bit_generator.state, self._order, self._pos, self.carried

    def _set_batch_state(self, batch: tuple) -> None:
        state, self._order, self._pos, self.carried = batch
        if state is not None:
            self.rng.bit_generator.state = state

    def _forget_iteration(self, i: int) -> None:
        """Take iteration i, the newest, out of the history, as if it had never run."""
        h = self.history
        for name in h.SERIES:
            if name == "val_loss" and not (self.x_val is not None and (i % self.val_every == 0 or i == 1)):
                continue  # nothing was offered to it at iteration i
            series = getattr(h, name)
            st = series.state()
            keep = st["iterations"] != i
            series.restore({"iterations": st["iterations"][keep], "values": st["values"][keep],
                            "stride": st["stride"], "offered": max(0, st["offered"] - 1)})
        h.snapshots.items = [item for item in h.snapshots.items if item[0] != i]

    # saving and restoring a run --------------------------------------------------------------
    STATE_VERSION = 1

    def state_dict(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Everything needed to carry on exactly where this run stopped, as (JSON-safe values,
        flat dict of arrays). With the same data and model, `load_state_dict` on a new Trainer
        makes its next `step()` give bit-for-bit the loss this one would have given."""
        opt = self.optimizer
        meta = {
            "version": self.STATE_VERSION, "iteration": int(self.iteration), "optimizer": opt.name,
            "lr": float(self.lr), "momentum": float(self.momentum), "clip": None if self.clip is None else float(self.clip),
            "batch_size": self.batch_size, "seed": int(self.seed), "tbptt": self.tbptt, "val_every": int(self.val_every),
            "optimizer_steps": int(opt.steps), "optimizer_state": {}, "rng": _jsonable(self.rng.bit_generator.state),
            "pos": int(self._pos), "history": {}, "snapshot_every": int(self.history.snapshots.every),
            "snapshot_iterations": [int(it) for it, _ in self.history.snapshots.items],
            "loss_reduction": self.model.loss_reduction, "clip_mode": self.clip_mode, "stateful": self.stateful,
            "adagrad_eps": self.adagrad_eps,
        }
        arrays: dict[str, np.ndarray] = {"order": self._order.copy()}
        for key, a in self.carried.items():  # the carried hidden (and cell) state: "carried.h", "carried.c"
            arrays[f"carried.{key}"] = a.copy()
        for name, p in self.model.params().items():
            arrays[f"params.{name}"] = p.copy()
            arrays[f"initial.{name}"] = getattr(self._initial, name).copy()
        for key, value in opt.state.items():
            parts = value if isinstance(value, tuple) else (value,)
            meta["optimizer_state"][key] = len(parts) if isinstance(value, tuple) else 0
            for i, a in enumerate(parts):
                arrays[f"optim.{key}.{i}"] = a.copy()
        for name in self.history.SERIES:
            st = getattr(self.history, name).state()
            meta["history"][name] = {"stride": int(st["stride"]), "offered": int(st["offered"])}
            arrays[f"history.{name}.iterations"] = st["iterations"]
            arrays[f"history.{name}.values"] = st["values"]
        for i, (_, params) in enumerate(self.history.snapshots.items):
            for k, v in params.items():
                arrays[f"snapshot.{i}.{k}"] = v.copy()
        return meta, arrays

    def load_state_dict(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Carry on from `state_dict()`'s output. Checks everything first: on a ValueError
        this trainer is left as it was."""
        shapes = {k: v.shape for k, v in self.model.params().items()}
        dtype = self.model.dtype

        def arr(key: str, shape: tuple | None = None, kind: str = "f") -> np.ndarray:
            if key not in arrays:
                raise ValueError(f"the training state lacks {key!r}")
            a = np.asarray(arrays[key])
            if a.dtype.kind not in (kind if kind != "f" else "fiu"):
                raise ValueError(f"{key!r} has dtype {a.dtype}")
            if shape is not None and a.shape != shape:
                raise ValueError(f"{key!r} has shape {a.shape}; expected {shape}")
            if kind == "f" and not np.all(np.isfinite(a)):
                raise ValueError(f"{key!r} holds NaN or Inf")
            return a

        if meta.get("optimizer") not in ("sgd", "adam", "adagrad"):
            raise ValueError(f"unknown optimizer {meta.get('optimizer')!r}")
        N = self.x.shape[1]
        params = {k: arr(f"params.{k}", s).astype(dtype) for k, s in shapes.items()}
        initial = {k: arr(f"initial.{k}", s).astype(dtype) for k, s in shapes.items()}
        order = arr("order", None, "iu").astype(np.int64)
        if order.ndim != 1 or (order.size and (order.min() < 0 or order.max() >= N)):
            raise ValueError(f"'order' must list sequence indices below {N}")
        pos = int(meta["pos"])
        if not 0 <= pos <= len(order):
            raise ValueError(f"'pos' {pos} lies outside the batch order")
        state: dict = {}
        for key, n in dict(meta.get("optimizer_state", {})).items():
            if key not in shapes:
                raise ValueError(f"optimizer state for unknown parameter {key!r}")
            parts = tuple(arr(f"optim.{key}.{i}", shapes[key]).astype(dtype) for i in range(max(int(n), 1)))
            state[key] = parts if int(n) else parts[0]
        need = {"sgd": 0, "adam": 2, "adagrad": 0}[meta["optimizer"]]
        if any((int(n) if isinstance(n, (int, np.integer)) else -1) != need for n in meta.get("optimizer_state", {}).values()):
            raise ValueError(f"the optimizer state does not fit {meta['optimizer']}")
        generators = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM, "Philox": np.random.Philox,
                      "SFC64": np.random.SFC64, "MT19937": np.random.MT19937}  # never a name looked up from a file
        try:
            bg = generators[meta["rng"]["bit_generator"]]()
            bg.state = meta["rng"]
            rng = np.random.Generator(bg)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ValueError(f"the random generator state is not valid ({e})") from None
        history = {}
        for name in self.history.SERIES:
            h = dict(meta["history"][name])
            its = arr(f"history.{name}.iterations", None, "iu").astype(np.int64)
            vals = np.asarray(arrays.get(f"history.{name}.values", np.empty(0)))
            if its.ndim != 1 or vals.shape != its.shape or vals.dtype.kind not in "fiu":
                raise ValueError(f"history {name!r} has mismatched arrays")
            if len(its) > getattr(self.history, name).capacity or int(h["stride"]) < 1 or int(h["offered"]) < 0:
                raise ValueError(f"history {name!r} does not fit this trainer's history")
            history[name] = {"iterations": its, "values": vals.astype(np.float64), "stride": int(h["stride"]),
                             "offered": int(h["offered"])}
        snaps = []
        for i, it in enumerate(meta.get("snapshot_iterations", [])):
            snaps.append((int(it), {k: arr(f"snapshot.{i}.{k}", s).astype(dtype) for k, s in shapes.items()}))
        iteration = int(meta["iteration"])
        if iteration < 0:
            raise ValueError("the iteration count is negative")
        # the conventions (absent from states saved before they were settings: the defaults)
        reduction = check_loss_reduction(meta.get("loss_reduction", "mean"))
        clip_mode = check_clip_mode(meta.get("clip_mode", "norm"))
        adagrad_eps = check_adagrad_eps(meta.get("adagrad_eps", "outside"))
        stateful = meta.get("stateful", False)
        if not isinstance(stateful, bool):
            raise ValueError(f"'stateful' must be true or false, got {stateful!r}")
        H = self.model.hidden_size
        carried = {}
        for key in ("h", "c"):
            if f"carried.{key}" in arrays:
                a = arr(f"carried.{key}")
                if a.ndim != 2 or a.shape[1] != H or a.shape[0] < 1 or (key == "c" and self.model.cell != "lstm"):
                    raise ValueError(f"'carried.{key}' has shape {a.shape}; expected (B, {H})"
                                     + ("" if key == "h" else " and an LSTM"))
                carried[key] = a.astype(dtype)
        if "c" in carried and "h" not in carried:
            raise ValueError("the training state carries a cell state without a hidden state")
        # everything checked: apply
        self.optimizer_name = meta["optimizer"]
        self.lr = float(meta["lr"])
        self.momentum = float(meta["momentum"])
        self.clip = None if meta.get("clip") is None else float(meta["clip"])
        self.model.loss_reduction, self.clip_mode, self.adagrad_eps = reduction, clip_mode, adagrad_eps
        self.stateful, self.carried = stateful, carried
        self.optimizer = make_optimizer(self.optimizer_name, self.lr, self.momentum, self.adagrad_eps)
        self.optimizer.state = state
        self.optimizer.steps = int(meta["optimizer_steps"])
        self._initial.set_params(initial)
        self.model.set_params(params)
        self.rng = rng
        self._order, self._pos = order, pos
        self.iteration = iteration
        for name, st in history.items():
            getattr(self.history, name).restore(st)
        self.history.snapshots.items = snaps
        self.history.snapshots.every = max(1, int(meta.get("snapshot_every", self.history.snapshots.every)))
        self._forget_divergence()
        if len(self.history.loss):  # the run's first loss is the first point the history keeps
            self._start_loss = float(self.history.loss.values[0])

    def validation_loss(self) -> float:
        if self.x_val is None:
            return float("nan")
        return forward_loss(self.model, self.x_val, self.y_val)  # the loss only: no BPTT

    def loss(self) -> float:
        """Loss of the current weights on all training sequences."""
        return run(self.model, self.x, self.targets).loss


def _jsonable(obj: object) -> object:
    """A bit generator's state as plain JSON values (NumPy ints and arrays to Python)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
