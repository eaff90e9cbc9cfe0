"""The one training loop of the torch mirror, used by every task.

Adam over seeded mini-batches, an optional cosine learning-rate schedule, a
progress bar, and one checkpoint per epoch written atomically
(``<checkpoint_dir>/last.pt``: model, optimiser, scheduler, RNG state,
history, and the run's key: :func:`run_key`). Calling :func:`fit` again with
the same ``checkpoint_dir`` resumes after the last completed epoch, so an
interrupted run loses at most one epoch and ends with exactly the same weights
as an uninterrupted one; a checkpoint written for another model, data set,
configuration or biosnn version is refused, never resumed.

What varies between tasks is passed in:

* the data: any object with ``labels`` (``[S]``), ``len()``, ``fingerprint()`` (a
  short hash of its contents) and ``batch(index, generator)`` returning the
  time-major inputs of those samples
  (:class:`TensorData` for fixed inputs; a task may draw fresh spikes per batch
  from ``generator``, which the checkpoint carries, so a resumed run draws the
  same spikes);
* the objective ``objective(model, inputs, labels) -> (loss, logits)``
  (default: cross-entropy of ``logits_fn(model(inputs))``); ``logits`` may be
  ``None`` when the objective has none to report;
* ``post_step(model)``, run after every optimiser step (delay clamping,
  threshold floors);
* ``monitor(model) -> dict``, read before the first epoch and after every epoch
  (e.g. the learnt membrane time constants of PLIF layers, Fang et al. 2021
  Fig. 7); its values are kept in ``history["monitor"]`` (one entry per epoch,
  the initial values first).

Readouts: :func:`final_membrane_logits` (a non-spiking ``li`` last layer read
after the last step, the temporal-shd setup) and :func:`spike_count_logits`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from tqdm import tqdm

from ..core.errors import BiosnnInputError
from ..core.io import atomic_path
from ..core.results import fingerprint as array_fingerprint

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Protocol

    class TrainingData(Protocol):
        """What :func:`fit` needs of its data (see the module docstring)."""

        labels: torch.Tensor

        def __len__(self) -> int: ...

        def fingerprint(self) -> str: ...

        def batch(self, index: torch.Tensor, generator: torch.Generator) -> torch.Tensor: ...


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-2
    delay_lr: float = 0.05  # Adam step size for axonal delays (units of steps)
    cosine: bool = True
    seed: int = 0
    checkpoint_dir: str | None = None
    progress: bool = True


def final_membrane_logits(outputs: list[torch.Tensor]) -> torch.Tensor:
    """The last layer's output after the last step, ``[B, N]``."""
    return outputs[-1][-1]


def spike_count_logits(outputs: list[torch.Tensor], scale: float = 1.0) -> torch.Tensor:
    return outputs[-1].sum(0) * scale


def _param_groups(model, cfg: TrainConfig, delays):
    delay_ids = {id(p) for p in delays}
    other = [p for p in model.parameters() if p.requires_grad and id(p) not in delay_ids]
    groups = [{"params": other, "lr": cfg.lr}]
    if delay_ids:
        groups.append({"params": list(delays), "lr": cfg.delay_lr})
    return groups


def fingerprint(*arrays: np.ndarray | torch.Tensor) -> str:
    """A short hash of tensors or arrays (shape, dtype and contents): identifies a dataset
    (:func:`biosnn.core.results.fingerprint` of their values)."""
    return array_fingerprint(*(a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else a for a in arrays))


class TensorData:
    """Fixed inputs ``[S, T, N]`` (samples first) and labels ``[S]``."""

    def __init__(self, inputs: torch.Tensor, labels: torch.Tensor) -> None:
        if inputs.shape[0] != labels.shape[0]:
            raise BiosnnInputError(f"{inputs.shape[0]} samples but {labels.shape[0]} labels")
        self.inputs, self.labels = inputs, labels

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def fingerprint(self) -> str:
        return fingerprint(self.inputs, self.labels)

    def batch(self, index: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self.inputs[index].transpose(0, 1)  # time-major [T, B, N]


def cross_entropy(logits_fn: Callable = final_membrane_logits) -> Callable:
    """The objective ``CE(logits_fn(model(inputs)), labels)``."""

    def objective(
        model: torch.nn.Module, inputs: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        logits = logits_fn(model(inputs))
        return torch.nn.functional.cross_entropy(logits, labels), logits

    return objective


def fit(
    model: torch.nn.Module,
    data: TrainingData,
    cfg: TrainConfig,
    *,
    objective: Callable | None = None,
    logits_fn: Callable = final_membrane_logits,
    post_step: Callable | None = None,
    delay_parameters: Iterable[torch.nn.Parameter] = (),
    monitor: Callable | None = None,
) -> dict:
    """Train ``model`` on ``data`` (see the module docstring) with Adam.

    ``delay_parameters`` (e.g. ``FeedForward.delay_parameters()``) get their own step size
    ``cfg.delay_lr`` (they are in units of steps).

    Returns ``{"loss": [...], "accuracy": [...], "epochs_run": n}`` (training-set
    values per epoch; accuracy is NaN when the objective reports no logits), and
    ``"monitor": [...]`` (``epochs + 1`` entries) when ``monitor`` is given.
    """
    objective = cross_entropy(logits_fn) if objective is None else objective
    if len(data) == 0:
        raise BiosnnInputError("fit: the training data hold no samples")
    key = run_key(model, data, cfg)
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    optimizer = torch.optim.Adam(_param_groups(model, cfg, list(delay_parameters)))
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs) if cfg.cosine else None
    history = {"loss": [], "accuracy": []}
    if monitor is not None:
        history["monitor"] = [monitor(model)]
    start = 0
    ckpt = Path(cfg.checkpoint_dir) / "last.pt" if cfg.checkpoint_dir else None
    if ckpt is not None and (ckpt.exists() or ckpt.is_symlink()):
        state = load_checkpoint(ckpt, key)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        history, start = state["history"], state["epoch"] + 1
        if (monitor is not None) != ("monitor" in history):
            raise BiosnnInputError(
                f"checkpoint {ckpt} was written {'without' if monitor is not None else 'with'} a "
                "monitor; resume it the same way, or remove it to start afresh"
            )
    bar = tqdm(
        range(start, cfg.epochs), desc="train", unit="epoch", disable=not cfg.progress, initial=start, total=cfg.epochs
    )
    for epoch in bar:
        order = torch.randperm(len(data), generator=generator)
        total, correct, scored = 0.0, 0, 0
        for begin in range(0, len(order), cfg.batch_size):
            idx = order[begin : begin + cfg.batch_size]
            labels = data.labels[idx]
            loss, logits = objective(model, data.batch(idx, generator), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if post_step is not None:
                post_step(model)
            total += float(loss.detach()) * len(idx)
            if logits is not None:
                correct += int((logits.argmax(1) == labels).sum())
                scored += len(idx)
        if scheduler is not None:
            scheduler.step()
        history["loss"].append(total / len(order))
        history["accuracy"].append(correct / scored if scored else float("nan"))
        if monitor is not None:
            history["monitor"].append(monitor(model))
        bar.set_postfix(loss=f"{history['loss'][-1]:.3f}", acc=f"{history['accuracy'][-1]:.2f}")
        if ckpt is not None:
            state = dict(
                model=model.state_dict(),
                optimizer=optimizer.state_dict(),
                scheduler=scheduler.state_dict() if scheduler is not None else None,
                generator=generator.get_state(),
                torch_rng=torch.get_rng_state(),
                history=history,
                epoch=epoch,
                run_key=key,
            )
            try:
                with atomic_path(ckpt, suffix=".pt") as tmp:
                    torch.save(state, tmp)
            except RuntimeError as err:  # torch reports a failed write (a full disk) as a RuntimeError
                raise BiosnnInputError(
                    f"cannot write the checkpoint {str(ckpt)!r} ({err}); the previous checkpoint is kept"
                ) from None
    history["epochs_run"] = cfg.epochs - start
    return history


#: what a checkpoint holds (:func:`fit` writes exactly these keys)
CHECKPOINT_KEYS = ("model", "optimizer", "scheduler", "generator", "torch_rng", "history", "epoch", "run_key")


def load_checkpoint(path: Path, key: dict) -> dict:
    """The state stored in checkpoint ``path`` for the run ``key`` (:func:`run_key`), or a clear error.

    The file is read with ``torch.load(weights_only=True)``: tensors, dicts, lists, numbers and
    strings only, so a planted or downloaded ``last.pt`` cannot run code (an unpickler that builds
    arbitrary objects would). Its run key is compared with this run's before any of its state is used.
    """
    from ..core.io import check_input_file

    check_input_file(path, "checkpoint")
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # a truncated or foreign file, or one holding objects: torch raises many kinds
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise BiosnnInputError(
            f"checkpoint {str(path)!r} is not a biosnn checkpoint of tensors and numbers "
            f"({type(err).__name__}: {first[:200]}); remove it to start afresh"
        ) from None
    if not isinstance(state, dict) or sorted(state) != sorted(CHECKPOINT_KEYS):
        found = sorted(map(str, state))[:8] if isinstance(state, dict) else type(state).__name__
        raise BiosnnInputError(
            f"checkpoint {str(path)!r} does not hold a biosnn training state (found {found}); remove it to start afresh"
        )
    stored = state["run_key"]
    if not isinstance(stored, dict) or not all(isinstance(k, str) for k in stored):
        raise BiosnnInputError(
            f"checkpoint {str(path)!r}: its run key is not a dict of named parts; remove it to start afresh"
        )
    if stored != key:
        differs = [part for part in key if stored.get(part) != key[part]] or sorted(set(stored) - set(key))
        raise BiosnnInputError(
            f"checkpoint {str(path)!r} was written for another run ({', '.join(differs)} "
            "differ); remove it, or use another checkpoint_dir"
        )
    return state


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode())
    return h.hexdigest()[:16]


def run_key(model: torch.nn.Module, data: TrainingData, cfg: TrainConfig) -> dict:
    """What determines a training run's result, each part hashed: the configuration (but where and how
    it is reported), the model (its description, every parameter value and setting its ``repr`` shows,
    and its initial weights), the data (``data.fingerprint()``) and the code (``code_version()``)."""
    from ..core.results import code_version

    config = asdict(cfg)
    config.pop("progress")
    config.pop("checkpoint_dir")
    weights = [tensor.detach().cpu().numpy().tobytes() for tensor in model.state_dict().values()]
    return {
        "config": _digest(json.dumps(config, sort_keys=True)),
        "model": _digest(repr(model), *weights),
        "data": data.fingerprint(),
        "version": code_version(),
    }


def evaluate(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    *,
    logits_fn: Callable = final_membrane_logits,
    batch_size: int = 256,
    sample_offsets: bool = False,
) -> np.ndarray:
    """Logits ``[S, C]`` without gradients; ``sample_offsets``: tell the model each chunk's first sample
    (``first_sample``), so a noisy layer draws every sample's noise by its index in the whole set."""
    out = []
    with torch.no_grad():
        for begin in range(0, inputs.shape[0], batch_size):
            chunk = inputs[begin : begin + batch_size].transpose(0, 1)
            out.append(logits_fn(model(chunk, first_sample=begin) if sample_offsets else model(chunk)))
    return torch.cat(out).cpu().numpy()
