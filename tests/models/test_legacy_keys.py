"""Our layout's one rename: the lateral after pool1 was `laterals.stem.` before issue 14 and is
`laterals.pool1.` now. Older state dicts and exported files are renamed, not lost."""

from __future__ import annotations

import importlib.util

import pytest
import torch

import slowfast_edu as se
from slowfast_edu.models.convert import LEGACY_KEYS, convert_state_dict, rename_legacy_keys
from slowfast_edu.models.default import export_int8, load_exported

from ..conftest import REPO

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small tensors: faster alone


def _old_layout(state_dict: dict) -> dict:
    return {k.replace("laterals.pool1.", "laterals.stem."): v for k, v in state_dict.items()}


def test_old_keys_are_renamed_and_read():
    assert LEGACY_KEYS == {"laterals.stem.": "laterals.pool1."}
    model = se.build_model("slowfast_tiny")
    sd = model.state_dict()
    assert "laterals.pool1.conv.weight" in sd and not any(".stem." in k for k in sd
                                                          if k.startswith("laterals."))
    old = _old_layout(sd)
    assert list(rename_legacy_keys(old)) == list(sd)
    # the converters read the old name too, and write the current one
    assert list(convert_state_dict(old, "slowfast_edu", "slowfast_edu")) == list(sd)
    assert (convert_state_dict(old, "slowfast_edu", "pyslowfast").keys()
            == convert_state_dict(sd, "slowfast_edu", "pyslowfast").keys())
    assert list(model.laterals) == ["pool1", "res2", "res3", "res4"]


def test_the_script_renames_an_exported_model(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "rename_legacy_keys", REPO / "scripts" / "rename_legacy_keys.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    model = se.build_model("slowfast_tiny", num_classes=3).eval()
    torch.save({"model_state": model.state_dict(), "classnames": ["a", "b", "c"],
                "config": {"model": {"name": "slowfast_tiny", "overrides": {}}}},
               tmp_path / "last.pt")
    current = load_exported(export_int8(tmp_path / "last.pt", tmp_path / "current.pt"))
    for name in ("current.pt", "last.pt"):  # as the files of an older version had them
        saved = torch.load(tmp_path / name, weights_only=True)
        saved["model_state"] = _old_layout(saved["model_state"])
        torch.save(saved, tmp_path / ("old.pt" if name == "current.pt" else name))
    assert script.rename_file(tmp_path / "old.pt", tmp_path / "new.pt") == 6  # conv + 5 BN
    assert script.rename_file(tmp_path / "last.pt") == 6  # a trainer checkpoint, in place
    loaded = load_exported(tmp_path / "new.pt")
    x = se.example_inputs(model.cfg, 32)
    with torch.no_grad():
        assert torch.equal(loaded(x), current(x))
    assert "laterals.pool1.conv.weight" in torch.load(tmp_path / "last.pt")["model_state"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.pt", "last.pt", "new.pt",
                                                          "old.pt"]
