"""PySlowFast's Caffe2 checkpoints (`.pkl`): their blob names, and reading them without pickled code.

PySlowFast publishes its older models as the Caffe2 files they were trained as: the Kinetics-400
C2D, I3D, Slow and SlowFast models of its model zoo, and the Kinetics-600 SlowFast R101 models
it pre-trains its AVA detectors from (`ava/pretrain/SLOWFAST_32x2_R101_50_50.pkl`, 8x8, and
`SLOWFAST_64x2_R101_50_50.pkl`, 16x8: "32x2" counts the Fast pathway's 32 frames at stride 2).
A file is a pickled dict whose "blobs" map Caffe2 names to NumPy arrays:

| layer | Caffe2 blob | PySlowFast (PyTorch) |
|---|---|---|
| stem conv, BN (Slow; Fast with `t_`) | `conv1_w`, `res_conv1_bn_s` | `s1.pathway0_stem.conv.weight`, `s1.pathway0_stem.bn.weight` |
| bottleneck | `res3_1_branch2a_w`, `t_res3_1_branch2a_bn_rm` | `s3.pathway0_res1.branch2.a.weight`, `s3.pathway1_res1.branch2.a_bn.running_mean` |
| shortcut | `res2_0_branch1_w`, `res2_0_branch1_bn_b` | `s2.pathway0_res0.branch1.weight`, `s2.pathway0_res0.branch1_bn.bias` |
| lateral after pool1 | `t_pool1_subsample_w`, `t_pool1_subsample_bn_s` | `s1_fuse.conv_f2s.weight`, `s1_fuse.bn.weight` |
| lateral after res{s} | `t_res2_2_branch2c_bn_subsample_w` (the stage's last block) | `s2_fuse.conv_f2s.weight` |
| non-local | `nonlocal_conv4_6_theta_w`, `nonlocal_conv4_6_bn_s` | `s4.pathway0_nonlocal6.conv_theta.weight`, `s4.pathway0_nonlocal6.bn.weight` |
| classifier | `pred_w`, `pred_b` | `head.projection.weight`, `head.projection.bias` |

BatchNorm blobs end in `_s` (scale, gamma), `_b` (shift, beta), `_rm` (running mean) and `_riv`,
which PySlowFast loads as the running variance (so do we). Solver state (`*_momentum`, `lr`,
`model_iter`) is not a weight and is dropped. `caffe2_to_pyslowfast` renames the blobs to
PySlowFast's names, from which `convert_state_dict(..., source="caffe2")` goes on to ours; this
layout is read, never written.
"""

from __future__ import annotations

import importlib
import os
import pickle
import re
from pathlib import Path

import torch

_BN_PARAMS = {"s": "weight", "b": "bias", "rm": "running_mean", "riv": "running_var"}
_PARAMS = {"w": "weight", "b": "bias"}
_SOLVER_STATE = re.compile(r"(_momentum$|^lr$|^model_iter$)")

# (Caffe2 pattern, PySlowFast template): {0}, {1}, ... are the groups after the optional `t_`
# (the Fast pathway), which gives {p} (0 Slow, 1 Fast); {param}/{bn} is the parameter's name
_RULES = [
    (r"(t_)?conv1_(w|b)", "s1.pathway{p}_stem.conv.{param}"),
    (r"(t_)?res_conv1_bn_(s|b|rm|riv)", "s1.pathway{p}_stem.bn.{bn}"),
    (r"t_pool1_subsample_(w|b)", "s1_fuse.conv_f2s.{param}"),
    (r"t_pool1_subsample_bn_(s|b|rm|riv)", "s1_fuse.bn.{bn}"),
    (r"t_res(\d+)_\d+_branch2c_bn_subsample_(w|b)", "s{0}_fuse.conv_f2s.{param}"),
    (r"t_res(\d+)_\d+_branch2c_bn_subsample_bn_(s|b|rm|riv)", "s{0}_fuse.bn.{bn}"),
    (r"(t_)?res(\d+)_(\d+)_branch2([abc])_(w|b)", "s{0}.pathway{p}_res{1}.branch2.{2}.{param}"),
    (r"(t_)?res(\d+)_(\d+)_branch2([abc])_bn_(s|b|rm|riv)",
     "s{0}.pathway{p}_res{1}.branch2.{2}_bn.{bn}"),
    (r"(t_)?res(\d+)_(\d+)_branch1_(w|b)", "s{0}.pathway{p}_res{1}.branch1.{param}"),
    (r"(t_)?res(\d+)_(\d+)_branch1_bn_(s|b|rm|riv)", "s{0}.pathway{p}_res{1}.branch1_bn.{bn}"),
    (r"nonlocal_conv(\d+)_(\d+)_(theta|phi|g|out)_(w|b)",
     "s{0}.pathway0_nonlocal{1}.conv_{2}.{param}"),
    (r"nonlocal_conv(\d+)_(\d+)_bn_(s|b|rm|riv)", "s{0}.pathway0_nonlocal{1}.bn.{bn}"),
    (r"pred_(w|b)", "head.projection.{param}"),
]
_COMPILED = [(re.compile(pattern + "$"), template) for pattern, template in _RULES]


def is_caffe2_layout(state_dict: dict) -> bool:
    """Whether the keys are Caffe2 blob names (`conv1_w`, `res2_0_branch2a_w`, `pred_w`)."""
    return any(k in ("conv1_w", "pred_w") or re.match(r"(t_)?res\d+_\d+_branch", k)
               for k in state_dict)


def caffe2_to_pyslowfast(blobs: dict) -> dict[str, torch.Tensor]:
    """Blobs named as in Caffe2 -> tensors named as in PySlowFast (solver state dropped)."""
    out, unknown = {}, []
    for name, value in blobs.items():
        if _SOLVER_STATE.search(name):
            continue
        for regex, template in _COMPILED:
            m = regex.match(name)
            if m:
                fields, fast = m.groups(), False
                if "{p}" in template:  # the first group is the Fast pathway's `t_`, or None
                    fast, fields = fields[0] == "t_", fields[1:]
                param = _BN_PARAMS[fields[-1]] if "{bn}" in template else _PARAMS[fields[-1]]
                key = template.format(*fields, p=int(fast), param=param, bn=param)
                out[key] = _tensor(value, key)
                break
        else:
            unknown.append(name)
    if unknown:
        more = f" ... and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise ValueError(f"{len(unknown)} blob(s) are not Caffe2 SlowFast layers: "
                         f"{', '.join(unknown[:10])}{more}")
    return out


def _tensor(value, key: str) -> torch.Tensor:
    tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
    if key == "head.projection.weight" and tensor.dim() > 2:  # a 1x1x1 conv classifier
        tensor = tensor.flatten(1)  # (K, C, 1, 1, 1) -> (K, C), the linear layer's weight
    return tensor


# what a Caffe2 checkpoint may contain besides dicts, lists and numbers: NumPy arrays (and the
# text -> bytes step with which a protocol-2 pickle stores their data: `_codecs.encode`)
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
            ("numpy", "ndarray"), ("numpy", "dtype"), ("collections", "OrderedDict"),
            ("_codecs", "encode")}


class _Refused(pickle.UnpicklingError):
    """A global that is not part of a NumPy array: code that a checkpoint must not run."""


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that builds NumPy arrays and nothing else: a checkpoint never runs code."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise _Refused(f"GLOBAL {module}.{name} is not a NumPy array")
        if module.startswith("numpy.core"):  # NumPy 2 moved numpy.core to numpy._core
            module = module.replace("numpy.core", "numpy._core", 1)
        return getattr(importlib.import_module(module), name)


def load_caffe2_checkpoint(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The blobs of a PySlowFast Caffe2 `.pkl` file as tensors, keyed by their Caffe2 names."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Caffe2 checkpoint {path} does not exist")
    try:
        with open(path, "rb") as f:
            data = _ArraysOnly(f, encoding="latin1").load()  # written by Python 2
    except _Refused as e:
        raise ValueError(f"{path} is not a Caffe2 checkpoint of arrays ({e}); refusing to "
                         f"unpickle anything else") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError,
            IndexError) as e:
        raise ValueError(f"{path} is truncated or not a Caffe2 checkpoint "
                         f"({type(e).__name__}: {e})") from None
    blobs = data.get("blobs") if isinstance(data, dict) else None
    if not isinstance(blobs, dict):
        raise ValueError(f"{path} has no 'blobs' dict (a PySlowFast Caffe2 .pkl keeps its "
                         f"weights there)")
    return {name: torch.as_tensor(value) for name, value in blobs.items()
            if hasattr(value, "shape")}
