"""The notebooks' self-checks: right answers pass with a ✓ line, wrong ones raise with a hint."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from slowfast_edu.checks import (ExerciseNotDone, check_close, check_grad, check_parameters,
                                 check_shape, copy_weights)
from slowfast_edu.models.fusion import TimeStridedConv
from slowfast_edu.models.resnet import Bottleneck


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# check_shape -------------------------------------------------------------------------------------

@pytest.mark.parametrize("actual", [torch.zeros(1, 3, 8, 4, 4), np.zeros((1, 3, 8, 4, 4)),
                                    torch.Size([1, 3, 8, 4, 4]), (1, 3, 8, 4, 4), [1, 3, 8, 4, 4]])
def test_check_shape_accepts_tensors_arrays_sizes_tuples(actual, capsys):
    check_shape(actual, (1, 3, 8, 4, 4), "slow clip")
    assert capsys.readouterr().out == "✓ slow clip: shape (1, 3, 8, 4, 4) is correct\n"


def test_check_shape_names_the_5d_dimension_and_adds_the_hint():
    with pytest.raises(AssertionError) as e:
        check_shape(torch.zeros(1, 3, 32, 4, 4), (1, 3, 8, 4, 4), "slow clip",
                    hint="did you sample the Slow pathway every alpha-th frame?")
    assert str(e.value) == ("slow clip: dim 2 (T) is 32, expected 8 (shape (1, 3, 32, 4, 4), "
                            "expected (1, 3, 8, 4, 4))\n"
                            "Hint: did you sample the Slow pathway every alpha-th frame?")


def test_check_shape_rank_mismatch_custom_dims_wildcards_and_tensor_expected(capsys):
    with pytest.raises(AssertionError, match=r"x: has 4 dimensions.*expected 5 \(B, C, T, H, W\)"):
        check_shape(torch.zeros(3, 8, 4, 4), (1, 3, 8, 4, 4), "x")
    with pytest.raises(AssertionError, match=r"frames: dim 3 \(C\) is 4, expected 3"):
        check_shape(np.zeros((8, 5, 5, 4)), (8, 5, 5, 3), "frames", dims="THWC")
    check_shape(torch.zeros(2, 7), (None, 7), "logits")
    check_shape(torch.zeros(2, 7), torch.ones(2, 7), "logits")
    assert capsys.readouterr().out.count("✓ logits") == 2


def test_check_shape_on_a_missing_answer_says_not_done():
    with pytest.raises(ExerciseNotDone, match="Exercise not done yet: `slow_frames` is None"):
        check_shape(None, (8,), "slow_frames")
    with pytest.raises(TypeError, match="cannot read a shape from str"):
        check_shape("abc", (3,))


# check_close -------------------------------------------------------------------------------------

def test_check_close_exact_and_approximate(capsys):
    x = torch.randn(2, 3)
    check_close(x.clone(), x, "same")
    check_close(x + 3e-7, x, "nearly")
    check_close(np.array([0, 4, 8]), torch.tensor([0, 4, 8]), "indices")
    check_close(0.5, 0.5, "number")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "✓ same: exact"
    assert out[1].startswith("✓ nearly: approximate (max abs difference 3") and "e-07)" in out[1]
    assert out[2:] == ["✓ indices: exact", "✓ number: exact"]


def test_check_close_reports_max_difference_location_and_hint():
    expected = torch.zeros(2, 3)
    actual = expected.clone()
    actual[1, 2] = 0.5
    with pytest.raises(AssertionError) as e:
        check_close(actual, expected, "out", hint="is the ReLU after the sum?")
    assert str(e.value) == ("out: max abs difference 0.5 at index (1, 2) (got 0.5, expected 0); "
                            "1 of 6 elements out of tolerance (atol=1e-05, rtol=0.0001)\n"
                            "Hint: is the ReLU after the sum?")


def test_check_close_checks_shapes_first():
    with pytest.raises(AssertionError, match=r"idx: dim 0 is 32, expected 8"):
        check_close(torch.arange(32), torch.arange(8), "idx")


def test_check_close_dicts_and_lists_name_the_leaf(capsys):
    expected = {"slow": torch.ones(2), "fast": [torch.zeros(3), 1.0]}
    check_close({"slow": torch.ones(2), "fast": [torch.zeros(3), 1.0 + 1e-7]}, expected, "feats")
    assert capsys.readouterr().out.startswith("✓ feats: approximate (max abs difference 1")
    with pytest.raises(AssertionError, match=r"feats\['fast'\]\[0\]: max abs difference 1"):
        check_close({"slow": torch.ones(2), "fast": [torch.ones(3), 1.0]}, expected, "feats")
    with pytest.raises(AssertionError, match=r"keys differ: missing \['fast'\]"):
        check_close({"slow": torch.ones(2)}, expected, "feats")
    with pytest.raises(AssertionError, match=r"expected a list of 2 items, got 1"):
        check_close({"slow": torch.ones(2), "fast": [torch.zeros(3)]}, expected, "feats")


def test_check_close_nan_inf_and_not_done(capsys):
    check_close(torch.tensor([float("nan"), float("inf"), 1.0]),
                torch.tensor([float("nan"), float("inf"), 1.0]), "special")
    assert capsys.readouterr().out == "✓ special: exact\n"
    with pytest.raises(AssertionError, match="max abs difference inf at index \\(0,\\)"):
        check_close(torch.tensor([float("nan"), 1.0]), torch.tensor([0.0, 1.0]), "special")
    with pytest.raises(ExerciseNotDone, match="`answer` is None"):
        check_close(None, torch.zeros(1), "answer")
    with pytest.raises(ExerciseNotDone, match=r"`d\['a'\]` is None"):
        check_close({"a": None}, {"a": torch.zeros(1)}, "d")


# check_grad --------------------------------------------------------------------------------------

def test_check_grad_gradcheck_passes_on_a_module_and_a_function(capsys):
    block = Bottleneck(4, 2, 4, temporal_kernel=3)
    state = {k: v.clone() for k, v in block.state_dict().items()}
    check_grad(block, torch.randn(2, 4, 4, 3, 3), name="bottleneck")
    check_grad(lambda x, y: (x * y).sum(dim=1), (torch.randn(2, 3), torch.randn(2, 3)),
               name="product")
    out = capsys.readouterr().out.splitlines()
    assert out == ["✓ bottleneck: gradients agree with finite differences "
                   "(torch.autograd.gradcheck, float64)",
                   "✓ product: gradients agree with finite differences "
                   "(torch.autograd.gradcheck, float64)"]
    assert all(torch.equal(v, block.state_dict()[k]) for k, v in state.items())  # untouched


class _WrongBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x  # should be 2 * x


def test_check_grad_catches_a_wrong_backward_with_the_hint():
    with pytest.raises(AssertionError, match=r"square: autograd's gradients differ from finite "
                                             r"differences(.|\n)*Hint: d/dx x\^2 = 2x"):
        check_grad(_WrongBackward.apply, torch.randn(4), name="square", hint="d/dx x^2 = 2x")


def test_check_grad_against_a_reference_module(capsys):
    reference = TimeStridedConv(4, alpha=4, kernel=5)
    student = copy_weights(reference, TimeStridedConv(4, alpha=4, kernel=5))
    fast = torch.randn(2, 4, 8, 3, 3)
    check_grad(student.transform, fast, reference=reference.transform, name="T-conv transform")
    check_grad(student, (torch.randn(2, 6, 2, 3, 3), fast), reference=reference, name="T-conv")
    out = capsys.readouterr().out.splitlines()
    assert out == ["✓ T-conv transform: gradients of the inputs match the reference exactly",
                   "✓ T-conv: gradients of the inputs, parameters match the reference exactly"]
    assert reference.conv.weight.grad is None and student.conv.weight.grad is None


def test_check_grad_reference_mismatch_names_the_gradient():
    reference = nn.Linear(3, 2)
    with pytest.raises(AssertionError, match=r"linear gradient\['input 0'\]: max abs difference"):
        check_grad(lambda x: 2 * reference(x), torch.randn(4, 3), reference=reference,
                   name="linear")
    with pytest.raises(ExerciseNotDone, match="raised NotImplementedError"):
        check_grad(lambda x: (_ for _ in ()).throw(NotImplementedError("Exercise 2")),
                   torch.randn(3), name="mine")


def test_check_grad_detached_output_is_reported():
    with pytest.raises(AssertionError, match="its output has no gradient at all"):
        check_grad(lambda x: x.detach() * 2, torch.randn(3), reference=lambda x: x * 2,
                   name="double")


def test_check_grad_missing_gradient_is_reported():
    reference, student = nn.Linear(3, 2), nn.Linear(3, 2)

    class Detached(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight, self.bias = student.weight, student.bias

        def forward(self, x):
            return x @ self.weight.T + self.bias.detach()

    copy_weights(reference, student)
    with pytest.raises(AssertionError, match="no gradient reaches parameter bias"):
        check_grad(Detached(), torch.randn(4, 3), reference=reference, name="linear")


# check_parameters / copy_weights -----------------------------------------------------------------

class _NoBiasBlock(nn.Module):
    def __init__(self, kernel: int = 3, bias: bool = False):
        super().__init__()
        self.conv_a = nn.Conv3d(4, 2, (kernel, 1, 1), padding=(kernel // 2, 0, 0), bias=bias)
        self.bn_a = nn.BatchNorm3d(2)


def test_check_parameters_and_copy_weights(capsys):
    reference = _NoBiasBlock()
    reference.bn_a.running_mean.fill_(0.3)
    check_parameters(_NoBiasBlock(), reference, "block")
    assert capsys.readouterr().out == "✓ block: 3 parameter tensors, 28 parameters, as the reference\n"
    student = copy_weights(reference, _NoBiasBlock())
    assert torch.equal(student.conv_a.weight, reference.conv_a.weight)
    assert torch.equal(student.bn_a.running_mean, reference.bn_a.running_mean)
    with pytest.raises(AssertionError, match=r"parameter conv_a.weight has shape \(2, 4, 1, 1, 1\), "
                                             r"expected \(2, 4, 3, 1, 1\)\nHint: temporal"):
        check_parameters(_NoBiasBlock(kernel=1), reference, "block", hint="temporal kernel on a")
    with pytest.raises(AssertionError, match=r"unexpected parameter\(s\) \['conv_a.bias'\]"):
        check_parameters(_NoBiasBlock(bias=True), reference, "block")
    with pytest.raises(AssertionError, match=r"missing parameter\(s\) \['conv_a.weight'"):
        check_parameters(nn.Module(), reference, "block")
    with pytest.raises(AssertionError, match="cannot copy the weights: conv_a.weight has shape"):
        copy_weights(reference, _NoBiasBlock(kernel=1))
    with pytest.raises(ExerciseNotDone):
        check_parameters(None, reference, "block")
