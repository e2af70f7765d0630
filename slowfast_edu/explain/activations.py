"""What each pathway computes: its feature maps stage by stage, and what the Fast pathway adds.

`capture_activations` records the (B, C, T, H, W) output of every stage (stem, res2..res5) of each
pathway with forward hooks, removed before it returns. For the Slow pathway of a SlowFast these are
the Slow features *before* the lateral connection after that stage joins the Fast ones in.

The summaries reduce a 5D map to something one can plot against time: each channel's mean over
space (B, C, T), the energy at each time step (B, T), and the energy of the change between
consecutive steps (B, T-1), which is large where features move, the Fast pathway's business.

`lateral_contributions` asks the question the paper's fusion ablation asks, on one clip: how does
the prediction change when one lateral connection, all four, or the whole Fast pathway is removed
at inference? "Removed" means its contribution is zeroed: a concatenating connection passes the
Slow features with zeros where the Fast channels were, a summing one passes the Slow features
unchanged; removing the Fast pathway zeroes all four connections and the Fast features at the head.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from ..models import LATERAL_POSITIONS

STAGE_NAMES = ("stem", "res2", "res3", "res4", "res5")
LATERAL_NAMES = LATERAL_POSITIONS  # the stage each lateral connection follows: pool1, res2..res4
ABLATIONS = {  # name: what forward_without zeroes
    "none": (), "pool1": ("pool1",), "res2": ("res2",), "res3": ("res3",), "res4": ("res4",),
    "all_laterals": LATERAL_NAMES, "fast": ("fast",),
}


def pathway_names(model: nn.Module) -> list[str]:
    """["slow", "fast"] for a SlowFast, ["slow"] or ["fast"] for a single pathway."""
    arch = model.cfg.arch
    return ["slow", "fast"] if arch == "slowfast" else [arch]


def split_inputs(model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor]
                 ) -> dict[str, torch.Tensor]:
    """The model's input clips keyed by pathway name, each (B, 3, T, H, W)."""
    names = pathway_names(model)
    clips = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
    if len(clips) != len(names):
        raise ValueError(f"a {model.cfg.arch} model takes {len(names)} clip(s) "
                         f"({', '.join(names)}), got {len(clips)}; build [slow, fast] with "
                         f"slowfast_edu.pack_pathways(frames, alpha)")
    return dict(zip(names, clips))


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Put `model` in eval mode, then give every submodule back the mode it had."""
    modes = [(m, m.training) for m in model.modules()]  # some may be frozen in eval on purpose
    model.eval()
    try:
        yield model
    finally:
        for m, training in modes:
            m.training = training


def stage_modules(model: nn.Module, pathway: str) -> dict[str, nn.Module]:
    """stem, res2..res5 of one pathway of `model`."""
    return dict(getattr(model, pathway).stages())


def capture_activations(model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor],
                        stages: Iterable[str] = STAGE_NAMES) -> dict[str, dict[str, torch.Tensor]]:
    """Output of each stage of each pathway, in eval mode: {"slow": {"res2": (B,C,T,H,W)}, ...}."""
    stages = list(stages)
    unknown = set(stages) - set(STAGE_NAMES)
    if unknown:
        raise ValueError(f"unknown stage(s) {sorted(unknown)}; choose from {STAGE_NAMES}")
    split_inputs(model, inputs)  # a clear error for the wrong number of clips
    captured: dict[str, dict[str, torch.Tensor]] = {p: {} for p in pathway_names(model)}
    hooks = []
    for pathway in captured:
        modules = stage_modules(model, pathway)
        for stage in stages:
            def keep(_module, _inputs, output, pathway=pathway, stage=stage):
                captured[pathway][stage] = output.detach()
            hooks.append(modules[stage].register_forward_hook(keep))
    try:
        with evaluating(model), torch.no_grad():
            model(inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return captured


def channel_means_over_time(activation: torch.Tensor) -> torch.Tensor:
    """Each channel's mean over space at each time step: (B, C, T, H, W) -> (B, C, T)."""
    return activation.mean(dim=(3, 4))


def temporal_energy(activation: torch.Tensor) -> torch.Tensor:
    """Mean squared activation at each time step: (B, C, T, H, W) -> (B, T)."""
    return activation.pow(2).mean(dim=(1, 3, 4))


def change_energy(activation: torch.Tensor) -> torch.Tensor:
    """Mean squared change between consecutive time steps: (B, C, T, H, W) -> (B, T-1)."""
    return (activation[:, :, 1:] - activation[:, :, :-1]).pow(2).mean(dim=(1, 3, 4))


def summarize(activations: dict[str, dict[str, torch.Tensor]]
              ) -> dict[str, dict[str, dict[str, torch.Tensor]]]:
    """The three summaries of every captured map: {pathway: {stage: {name: tensor}}}."""
    return {pathway: {stage: {"channel_means": channel_means_over_time(a),  # (B, C, T)
                              "temporal_energy": temporal_energy(a),  # (B, T)
                              "change_energy": change_energy(a)}  # (B, T-1)
                      for stage, a in stages.items()}
            for pathway, stages in activations.items()}


def _drop_lateral(_module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
    """Forward hook: the lateral connection's output without its Fast contribution."""
    slow = inputs[0]  # (B, C, T, H, W)
    if output.shape[1] == slow.shape[1]:  # summed (or no fusion): the Slow features alone
        return slow
    kept = output.clone()
    kept[:, slow.shape[1]:] = 0  # concatenated: zeros where the Fast channels were
    return kept  # (B, C + C_lateral, T, H, W)


def forward_without(model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor],
                    zero: Iterable[str] = ()) -> torch.Tensor:
    """Logits (B, K) in eval mode with lateral connections ("pool1".."res4") or "fast" zeroed."""
    zero = set(zero)
    unknown = zero - set(LATERAL_NAMES) - {"fast"}
    if unknown:
        raise ValueError(f"cannot zero {sorted(unknown)}; choose from {LATERAL_NAMES} or 'fast'")
    laterals = getattr(model, "laterals", None)
    if zero & set(LATERAL_NAMES) and laterals is None:
        raise ValueError(f"a {model.cfg.arch}-only model has no lateral connections")
    if "fast" in zero and "fast" not in pathway_names(model):
        raise ValueError("this model has no Fast pathway")
    hooks = []
    if "fast" in zero:
        zero |= set(LATERAL_NAMES) if laterals is not None else set()
        hooks.append(model.fast.res5.register_forward_hook(
            lambda _m, _i, output: torch.zeros_like(output)))  # nothing reaches the head
    for name in sorted(zero & set(LATERAL_NAMES)):
        hooks.append(laterals[name].register_forward_hook(_drop_lateral))
    try:
        with evaluating(model), torch.no_grad():
            return model(inputs)
    finally:
        for hook in hooks:
            hook.remove()


def lateral_contributions(model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor],
                          target: int | torch.Tensor | None = None
                          ) -> dict[str, dict[str, torch.Tensor]]:
    """For each ablation in ABLATIONS: target probability (B,), its change (B,), top-1 (B,)."""
    names = ["none", "fast"] if "fast" in pathway_names(model) else ["none"]
    if getattr(model, "laterals", None) is not None:
        names = ["none", *LATERAL_NAMES, "all_laterals", "fast"]
    results: dict[str, dict[str, torch.Tensor]] = {}
    for name in names:
        probs = forward_without(model, inputs, ABLATIONS[name]).softmax(dim=-1)  # (B, K)
        if target is None:
            target = probs.argmax(dim=-1)  # the full model's prediction
        index = torch.as_tensor(target, device=probs.device).expand(probs.shape[0])  # (B,)
        p = probs.gather(1, index[:, None])[:, 0]  # (B,)
        results[name] = {"probs": probs, "target_prob": p, "top1": probs.argmax(dim=-1)}
    for r in results.values():
        r["prob_change"] = r["target_prob"] - results["none"]["target_prob"]
    return results
