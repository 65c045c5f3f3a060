"""The training loop: one function, :func:`train`, single process or under torchrun.

Every rank builds the same model and its shard of the sample stream (see ``sampler``);
gradients are averaged by DistributedDataParallel; only rank 0 validates and writes. A
resumed run restores model, EMA, optimizer, scaler, step (hence the data order and each
sample's augmentation) and RNG states, so it continues the same loss curve.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from ..data.hardness import clip_hardness, sampling_weights
from ..data.samples import TrainingSamples, ValidationSamples
from ..data.sources import build_reader
from ..errors import CheckpointError, InputError, RRINError
from ..inference.device import autocast, resolve_device, resolve_precision
from ..losses import TrainingLoss
from ..model.checkpoint import load_checkpoint
from ..model.dis import dis_flows
from ..model.rrin import RRIN, Flows
from .config import TrainConfig, dump_toml, to_dict
from .distributed import (DistInfo, all_reduce_mean, barrier, broadcast_flag, gather_float, init_distributed,
                          rank_device, shutdown)
from .logging import RunLogger
from .rundir import last_checkpoint, prepare_run_dir, write_status
from .sampler import StreamBatchSampler
from .schedule import EMA, learning_rate
from .signals import ignore_interrupts, stop_requests
from .stages import stage_module
from .state import check_architecture, load_training_checkpoint, rng_state, save_training_checkpoint, set_rng_state
from .validate import validate

__all__ = ["train", "TrainResult", "resolved_config"]


@dataclass
class TrainResult:
    state: str  # "finished", "stopped" (wall-clock budget) or "interrupted" (Ctrl-C, SIGTERM)
    step: int
    run_dir: Path
    best_psnr: float | None
    last_val: dict | None


def resolved_config(config: TrainConfig) -> dict:
    """The config as saved: the model section fully resolved (preset and every field)."""
    values = to_dict(config)
    values["model"] = {"preset": config.model.preset, **config.model.build().to_dict()}
    return values


def _checkpoint_config(config: TrainConfig) -> dict:
    values = to_dict(config)
    values["model"] = config.model.build().to_dict()
    values["model_preset"] = {"preset": config.model.preset}
    return values


def _build_model(config: TrainConfig, device: torch.device) -> RRIN:
    torch.manual_seed(config.init.seed)
    model = RRIN(config.model.build())
    if config.init.from_:
        saved, state = load_checkpoint(config.init.from_)
        if saved != model.config:
            raise CheckpointError(f"init.from {config.init.from_} is model {saved.to_dict()}, the config asks for {model.config.to_dict()}")
        model.load_state_dict(state)
    else:  # only a fresh network is re-initialised; loaded weights stay
        if config.init.kaiming:
            model.kaiming_init()
        if config.init.zero_residues:
            model.zero_init_residues()
    return model.to(device)


def _loader(dataset, sampler, workers: int, device: torch.device) -> DataLoader:
    return DataLoader(dataset, batch_sampler=sampler, num_workers=workers, pin_memory=device.type == "cuda",
                      persistent_workers=False, worker_init_fn=ignore_interrupts if workers else None)


def _batches(loader: DataLoader):
    """Iterate ``loader``; an input error raised in a worker keeps its one-line message."""
    try:
        yield from loader
    except RRINError as exc:
        lines = [line for line in str(exc).splitlines() if line.strip()]
        message = lines[-1] if lines else type(exc).__name__
        prefix = f"{type(exc).__module__}.{type(exc).__name__}: "
        raise type(exc)(message.removeprefix(prefix).removeprefix(f"{type(exc).__name__}: ")) from None


def train(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    max_minutes: float | None = None,
    progress: Callable[[str], None] | None = None,
    on_step: Callable[[int, int, dict | None], None] | None = None,
) -> TrainResult:
    """Train per ``config`` into ``run_dir``; returns how the run ended.

    ``max_minutes`` (default ``config.train.max_minutes``, 0 = none) stops cleanly with a
    checkpoint once this process has trained that long.

    ``progress`` gets one line per event: resuming, each validation, the end, and, unless
    ``on_step`` is given, each logged step (``train.log_every``). ``on_step(step, steps,
    row)`` (main process only) is called once before training with the step it starts from
    and after every step, ``row`` being the row logged to ``train.csv`` on logged steps
    (``loss``, ``lr``, ``samples_per_s``, … as floats), else None: what a progress bar needs.
    """
    run_dir = Path(run_dir)
    opts = config.train
    say = progress or (lambda message: None)
    device = resolve_device(opts.device)
    info = init_distributed(device)
    device = rank_device(device, info)
    if opts.threads > 0:
        torch.set_num_threads(opts.threads)
    owned = {"run_dir": False}  # set once this process has claimed the run folder
    try:
        return _train(config, run_dir, device, info, resume, overwrite, max_minutes, say, on_step, owned)
    except BaseException as exc:
        if info.is_main and owned["run_dir"]:
            write_status(run_dir, "failed", error=str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__)
        raise
    finally:
        shutdown(info)


def _train(config, run_dir, device, info: DistInfo, resume, overwrite, max_minutes, say, on_step, owned) -> TrainResult:
    opts = config.train
    dtype = resolve_precision(opts.precision, device)
    budget = (opts.max_minutes if max_minutes is None else max_minutes) * 60.0

    # Data first: bad dataset paths fail before anything is written.
    criterion = TrainingLoss(config.loss).to(device)
    train_reader = build_reader(config.data.kind, config.data.path, "train", config.data, opts.seed)
    val_kind = config.data.val_kind or config.data.kind
    val_reader = build_reader(val_kind, config.data.val_path or config.data.path, "val", config.data, opts.seed)
    architecture = config.model.build()
    dis_input = architecture.flow == "dis"  # the network takes DIS flows: stored ones, or computed per sample
    dataset = TrainingSamples(train_reader, config.augment, seed=opts.seed, multi_t=config.data.multi_t,
                              random_span=config.data.random_span, want_flow=criterion.wants_flow or dis_input, estimated_flow=dis_input,
                              flow_fn=partial(dis_flows, preset=architecture.dis_preset, max_side=architecture.dis_max_side))
    val_set = ValidationSamples(val_reader, limit=config.data.val_samples, crop=config.data.val_crop)
    if len(val_set) == 0:
        raise InputError(f"{val_reader.name}: no validation samples")
    dataset[(0, 0)], val_set[0]  # unreadable data fails here, before the run folder is touched

    model = _build_model(config, device)
    ema = EMA(model, opts.ema_decay)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.optim.lr, weight_decay=config.optim.weight_decay,
                                  betas=(config.optim.beta1, config.optim.beta2))
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    step, best, baseline, samples_seen = 0, None, None, 0

    resuming = False
    if info.is_main:
        resuming = prepare_run_dir(run_dir, resume=resume, overwrite=overwrite)
        owned["run_dir"] = True
    barrier(info)
    if resume:
        payload = load_training_checkpoint(last_checkpoint(run_dir))
        check_architecture(payload, model.config, last_checkpoint(run_dir))
        model.load_state_dict(payload["model"])
        ema.load_state_dict(payload["ema"])
        optimizer.load_state_dict(payload["optimizer"])
        scaler.load_state_dict(payload["scaler"])
        set_rng_state(payload["rng"])
        step, samples_seen = int(payload["step"]), int(payload["samples"])
        best, baseline = payload.get("best_psnr"), payload.get("blend_psnr")
        resuming = True
    if info.is_main:
        (run_dir / "config.toml").write_text(dump_toml(resolved_config(config)), encoding="utf-8")
        write_status(run_dir, "running", step=step)
    logger = RunLogger(run_dir, opts.tensorboard, resume_step=step if resume else None) if info.is_main else None
    if resuming:
        say(f"resuming at step {step}")

    stepped = stage_module(model, opts.stage)
    flow_stage = opts.stage == "flow"
    net = DistributedDataParallel(stepped, find_unused_parameters=flow_stage) if info.enabled else stepped
    hardness = None
    if config.data.hard_clips > 0:
        say(f"measuring the synthesis's error on {len(train_reader)} training clips (data.hard_clips)")
        hardness = sampling_weights(clip_hardness(train_reader, dataset.flow_fn))
    sampler = StreamBatchSampler(len(dataset), opts.batch_size, seed=opts.seed, rank=info.rank,
                                 world_size=info.world_size, start_step=step, end_step=opts.steps,
                                 weights=hardness, weighted_share=config.data.hard_clips)
    loader = _loader(dataset, sampler, config.data.num_workers, device)

    def save(tag: str) -> None:
        if not info.is_main:
            return
        payload = {"model": model.state_dict(), "ema": ema.state_dict(), "config": _checkpoint_config(config),
                   "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict(), "step": step,
                   "samples": samples_seen, "rng": rng_state(), "best_psnr": best, "blend_psnr": baseline}
        folder = run_dir / "checkpoints"
        save_training_checkpoint(folder / "last.pt", payload)
        if tag:
            save_training_checkpoint(folder / f"{tag}.pt", payload)
        if opts.keep_checkpoints > 0:
            old = sorted(folder.glob("step_*.pt"))[:-opts.keep_checkpoints]
            for path in old:
                path.unlink(missing_ok=True)
        write_status(run_dir, "running", step=step)  # a killed run's status names its last checkpoint

    def run_validation() -> dict:
        nonlocal best, baseline
        row = validate(model, ema, val_set, device, dtype, run_dir / "samples", step, opts.sample_images, logger)
        if baseline is None:
            baseline = row["blend_psnr"]
        row["blend_psnr"] = baseline
        if best is None or row["psnr_ema"] > best:
            best = row["psnr_ema"]
            save("best")
        logger.log("val", row)
        say(f"step {step}: val PSNR {row['psnr_ema']:.2f} dB (EMA), {row['psnr']:.2f} dB (raw), blend {baseline:.2f} dB")
        return row

    if on_step is not None and info.is_main:
        on_step(step, opts.steps, None)
    start_time = time.monotonic()
    window_start, window_samples, window_steps, window_loss, window_terms = time.monotonic(), 0, 0, 0.0, {}
    last_val, state = None, "finished"
    model.train()
    with stop_requests() as stop_requested:
        for batch in _batches(loader):
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
            lr = learning_rate(step, config.optim.lr, config.optim.warmup_steps, opts.steps, config.optim.min_lr_ratio)
            for group in optimizer.param_groups:
                group["lr"] = lr
            given = Flows(batch["flow"][:, 0:2], batch["flow"][:, 2:4]) if dis_input else None
            with autocast(device, dtype):
                output = net(batch["img0"], batch["img1"], batch["t"], given)
            loss, terms = criterion.flow_only(output, batch, step) if flow_stage else criterion(output, batch, step)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.optim.grad_clip if config.optim.grad_clip > 0 else math.inf)
            scaler.step(optimizer)
            scaler.update()
            ema.update(model, step)
            step += 1
            samples_seen += opts.batch_size * info.world_size
            window_samples += opts.batch_size * info.world_size
            window_steps += 1
            window_loss += float(loss.detach())
            for name, value in terms.items():
                window_terms[name] = window_terms.get(name, 0.0) + value

            row = None
            if step % opts.log_every == 0 or step == opts.steps:
                count = window_steps
                mean = all_reduce_mean(torch.tensor([window_loss / count], device=device), info).item()
                elapsed = time.monotonic() - window_start
                if info.is_main:
                    row = {"step": step, "loss": mean, **{k: v / count for k, v in window_terms.items()},
                           "lr": lr, "grad_norm": float(grad_norm), "samples_per_s": window_samples / max(elapsed, 1e-9),
                           "elapsed_s": time.monotonic() - start_time}
                    logger.log("train", row)
                    if on_step is None:
                        say(f"step {step}/{opts.steps} loss {mean:.4f} lr {lr:.2e} {row['samples_per_s']:.1f} samples/s")
                window_start, window_samples, window_steps, window_loss, window_terms = time.monotonic(), 0, 0, 0.0, {}
            if on_step is not None and info.is_main:
                on_step(step, opts.steps, None if row is None else dict(row))
            if step % opts.val_every == 0 or step == opts.steps:
                if info.is_main:
                    last_val = run_validation()
                barrier(info)
            if step % opts.checkpoint_every == 0 and step != opts.steps:
                save(f"step_{step:07d}")
            out_of_time = budget > 0 and time.monotonic() - start_time >= budget
            if broadcast_flag(out_of_time or stop_requested.is_set(), info, device) and step < opts.steps:
                state = "interrupted" if stop_requested.is_set() else "stopped"
                break
    # Every rank's weight checksum: DDP keeps them equal; the status file records them.
    checksum = sum(float(p.detach().double().sum()) for p in model.parameters())
    checksums = gather_float(checksum, info, device)
    if info.is_main:
        if state == "stopped" and (last_val is None or last_val["step"] != step):  # not on Ctrl-C: save and go
            last_val = run_validation()
        save(f"step_{step:07d}" if state == "finished" else "")
        write_status(run_dir, state, step=step, best_psnr=best, blend_psnr=baseline, rank_checksums=checksums)
        say(f"{state} at step {step}; checkpoint {last_checkpoint(run_dir)}")
        logger.close()
    barrier(info)
    return TrainResult(state, step, run_dir, best, last_val)
