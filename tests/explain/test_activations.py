"""Stage activations per pathway, their summaries, and zeroing the Fast pathway's contributions."""

from __future__ import annotations

import pytest
import torch

from slowfast_edu.explain.activations import (capture_activations, change_energy,
                                              channel_means_over_time, forward_without,
                                              lateral_contributions, summarize, temporal_energy)

from .conftest import assert_unchanged, clips_for, snapshot, tiny


def test_stage_outputs_of_both_pathways_and_no_hooks_left():
    model = tiny("slowfast_tiny").train()
    inputs = clips_for(model)  # 4 Slow, 16 Fast frames of 64 x 64
    before = snapshot(model)
    acts = capture_activations(model, inputs)
    assert_unchanged(model, before)
    # channels: Slow 32 (stem), 4 x (32, 64, 128, 256) at res2..res5; Fast 1/8 of those
    # H = W: 64 / 4 after the stem's stride 2 and max pool, then halved in res3 and res4 (the
    # tiny presets' res5 keeps res4's size: stride 1, dilation 2)
    expected = {
        "slow": {"stem": (32, 4, 16), "res2": (128, 4, 16), "res3": (256, 4, 8),
                 "res4": (512, 4, 4), "res5": (1024, 4, 4)},
        "fast": {"stem": (4, 16, 16), "res2": (16, 16, 16), "res3": (32, 16, 8),
                 "res4": (64, 16, 4), "res5": (128, 16, 4)},
    }
    assert {p: {s: (a.shape[1], a.shape[2], a.shape[3]) for s, a in stages.items()}
            for p, stages in acts.items()} == expected
    for stages in acts.values():
        for a in stages.values():
            assert a.shape[0] == 2 and a.shape[3] == a.shape[4] and not a.requires_grad
    with torch.no_grad():  # the captured res5 maps are exactly what the head classifies
        logits = model.eval()(inputs)
        assert torch.allclose(model.head([acts["slow"]["res5"], acts["fast"]["res5"]]), logits)


def test_capture_selected_stages_of_a_single_pathway():
    model = tiny("fast_tiny")
    acts = capture_activations(model, clips_for(model), stages=["res3"])
    assert list(acts) == ["fast"] and list(acts["fast"]) == ["res3"]
    assert acts["fast"]["res3"].shape == (2, 32, 16, 8, 8)
    with pytest.raises(ValueError, match="unknown stage"):
        capture_activations(model, clips_for(model), stages=["res6"])
    with pytest.raises(ValueError, match="takes 1 clip"):
        capture_activations(model, clips_for(tiny("slowfast_tiny")))


def test_summaries():
    a = torch.zeros(1, 2, 3, 2, 2)  # (B, C, T, H, W)
    a[0, 0, 1] = 2.0  # channel 0 lights up at t = 1
    a[0, 1] = 1.0  # channel 1 is constant
    assert torch.equal(channel_means_over_time(a), torch.tensor([[[0.0, 2.0, 0.0], [1.0] * 3]]))
    assert torch.allclose(temporal_energy(a), torch.tensor([[0.5, 2.5, 0.5]]))
    assert torch.allclose(change_energy(a), torch.tensor([[2.0, 2.0]]))  # (2^2 + 0) / 2
    model = tiny("slowfast_tiny")
    summary = summarize(capture_activations(model, clips_for(model), stages=["res2", "res5"]))
    fast = summary["fast"]["res2"]
    assert fast["channel_means"].shape == (2, 16, 16)
    assert fast["temporal_energy"].shape == (2, 16) and fast["change_energy"].shape == (2, 15)
    assert summary["slow"]["res5"]["temporal_energy"].shape == (2, 4)


def test_zeroing_nothing_changes_nothing_and_zeroing_the_fast_pathway_changes_the_prediction():
    model = tiny("slowfast_tiny")
    inputs = clips_for(model)
    with torch.no_grad():
        logits = model.eval()(inputs)
    model.train()
    before = snapshot(model)
    assert torch.equal(forward_without(model, inputs, ()), logits)
    for zero in (["fast"], ["res2"], ["pool1"], ["res4"], ["pool1", "res2", "res3", "res4"]):
        changed = forward_without(model, inputs, zero)
        assert (changed - logits).abs().max() > 1e-3, zero
    assert_unchanged(model, before)
    results = lateral_contributions(model, inputs)
    assert list(results) == ["none", "pool1", "res2", "res3", "res4", "all_laterals", "fast"]
    assert torch.equal(results["none"]["prob_change"], torch.zeros(2))
    assert torch.equal(results["none"]["top1"], logits.argmax(dim=-1))
    for name in ("res2", "fast"):
        probs = results[name]["probs"]
        assert probs.shape == (2, 5) and (probs - logits.softmax(-1)).abs().max() > 1e-4
        assert results[name]["prob_change"].abs().min() > 0
    assert_unchanged(model, before)


def test_zeroing_the_fast_pathway_is_all_laterals_zeroed_plus_zero_fast_features_at_the_head():
    model = tiny("slowfast_tiny")
    inputs = clips_for(model)
    fast_zeroed = forward_without(model, inputs, ["fast"])
    laterals_zeroed = forward_without(model, inputs, ["pool1", "res2", "res3", "res4"])
    # by hand: concatenated lateral channels set to zero, then the head sees zero Fast features
    captured = {}

    def zero_lateral(_module, inputs_, output):
        output = output.clone()
        output[:, inputs_[0].shape[1]:] = 0  # the channels after the Slow ones are the Fast ones
        return output

    hooks = [lateral.register_forward_hook(zero_lateral) for lateral in model.laterals.values()]
    hooks.append(model.slow.res5.register_forward_hook(
        lambda _m, _i, out: captured.__setitem__("slow", out)))
    hooks.append(model.fast.res5.register_forward_hook(
        lambda _m, _i, out: captured.__setitem__("fast", out)))
    with torch.no_grad():
        assert torch.equal(model.eval()(inputs), laterals_zeroed)
        manual = model.head([captured["slow"], torch.zeros_like(captured["fast"])])
    for hook in hooks:
        hook.remove()
    assert torch.allclose(fast_zeroed, manual, atol=1e-6)
    assert (laterals_zeroed - fast_zeroed).abs().max() > 1e-4


def test_a_summing_lateral_is_removed_by_passing_the_slow_features():
    model = tiny("slowfast_tiny", fusion="time_to_channel_sum", alpha=8, slow_frames=2)
    inputs = clips_for(model)
    with torch.no_grad():
        logits = model.eval()(inputs)
    assert torch.equal(forward_without(model, inputs), logits)
    assert (forward_without(model, inputs, ["res3"]) - logits).abs().max() > 1e-4


def test_single_pathway_models():
    model = tiny("fast_tiny")
    inputs = clips_for(model)
    assert list(lateral_contributions(model, inputs, target=1)) == ["none", "fast"]
    with pytest.raises(ValueError, match="no lateral connections"):
        forward_without(model, inputs, ["res2"])
    slow = tiny("slow_tiny")
    assert list(lateral_contributions(slow, clips_for(slow))) == ["none"]
    with pytest.raises(ValueError, match="no Fast pathway"):
        forward_without(slow, clips_for(slow), ["fast"])
