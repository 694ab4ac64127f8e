"""Distillation (nli_check.training.distil, training.losses) on the tiny models of conftest."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nli_check.datasets.claim_pairs import ClaimDocument
from nli_check.datasets.nli_pairs import Pair, read_pairs
from nli_check.errors import InputError
from nli_check.pipeline.infer import NLIModel
from nli_check.training import distil
from nli_check.training.losses import NO_GOLD, soft_target_loss
from nli_check.training.train import TrainConfig, train

PAIRS = [Pair(f"The council approved plan {i}.", f"Plan {i} was {word}.", None, "hand")
         for i in range(8) for word in ("approved", "rejected")]


def test_soft_target_loss_is_cross_entropy_for_one_hot_targets_and_mixes_gold():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    one_hot = torch.tensor([[1.0, 0.0, 0.0, NO_GOLD], [0.0, 0.0, 1.0, NO_GOLD]])
    expected = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2]))
    assert torch.isclose(soft_target_loss(logits, one_hot, gold_weight=0.7), expected)
    # a gold label weighs in where a pair has one: teacher says entailment, gold says contradiction
    soft = torch.tensor([[1.0, 0.0, 0.0, 2.0]])
    log_p = torch.log_softmax(logits[:1], dim=-1)[0]
    mixed = soft_target_loss(logits[:1], soft, gold_weight=0.25)
    assert torch.isclose(mixed, -(0.75 * log_p[0] + 0.25 * log_p[2]))


def test_temperature_softens_both_sides_and_keeps_a_matching_student_at_its_minimum():
    teacher = torch.tensor([[0.90, 0.09, 0.01, NO_GOLD]])
    # the teacher's own logits: at any temperature the student that matches it has the lowest loss
    matching = torch.log(teacher[:, :3])
    for temperature in (1.0, 2.0, 4.0):
        best = soft_target_loss(matching, teacher, gold_weight=0.0, temperature=temperature)
        for shift in ([0.5, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, -0.5]):
            moved = soft_target_loss(matching + torch.tensor([shift]), teacher, gold_weight=0.0,
                                     temperature=temperature)
            assert moved > best
    # at T=2 the targets are the teacher's square roots, renormalised, and the loss is scaled by 4
    logits = torch.tensor([[3.0, 0.0, 0.0]])
    roots = teacher[0, :3].sqrt() / teacher[0, :3].sqrt().sum()
    expected = -(roots * torch.log_softmax(logits[0] / 2, dim=-1)).sum() * 4
    assert torch.isclose(soft_target_loss(logits, teacher, gold_weight=0.0, temperature=2.0), expected)
    with pytest.raises(ValueError, match="temperature must be at least 1"):
        from nli_check.training.losses import SoftTargetLoss
        SoftTargetLoss(type("Model", (), {"num_labels": 3})(), gold_weight=0.5, temperature=0.5)


def test_scale_mix_takes_a_share_of_every_labelled_set():
    config = TrainConfig(mix="teacher")
    half = distil.scale_mix(config, 0.5)
    assert half.caps["snli"] == config.caps["snli"] // 2
    assert half.embellish_neutral == config.embellish_neutral // 2
    assert all(cap >= 1 for cap in distil.scale_mix(config, 0.0001).caps.values())
    with pytest.raises(ValueError, match="fraction must be in"):
        distil.scale_mix(config, 0.0)


def test_teacher_targets_resume_after_a_cut_line_and_score_only_the_rest(tmp_path, tiny_nli_model):
    teacher = NLIModel(tiny_nli_model, precision="float32", max_length=32)
    path = tmp_path / "targets.jsonl"
    first = distil.teacher_targets(PAIRS[:5], teacher=teacher, path=path)
    assert first.shape == (5, 3) and np.allclose(first.sum(axis=1), 1, atol=1e-4)
    lines = path.read_text().splitlines()
    assert len(lines) == 5
    path.write_text("\n".join(lines[:4]) + "\n" + lines[4][:20])  # an append cut short
    fresh = NLIModel(tiny_nli_model, precision="float32", max_length=32)
    both = distil.teacher_targets(PAIRS[:7], teacher=fresh, path=path)
    assert fresh.pairs_scored == 3  # the cut row and two new ones
    assert np.allclose(both[:5], first, atol=1e-5)
    assert len(path.read_text().splitlines()) == 7


def test_a_broken_target_row_inside_the_file_names_file_and_line(tmp_path, tiny_nli_model):
    path = tmp_path / "targets.jsonl"
    path.write_text('{"key": "ab", "p": [0.2, 0.3, 0.5]}\nnot json\n{"key": "cd", "p": [0.2, 0.3, 0.5]}\n')
    with pytest.raises(InputError, match=r"targets\.jsonl:2: not a target row"):
        distil.teacher_targets(PAIRS[:1], teacher=NLIModel(tiny_nli_model, precision="float32"), path=path)


def test_a_student_learns_the_teachers_probabilities(tmp_path, tiny_nli_model):
    config = TrainConfig(base_model=str(tiny_nli_model), batch_size=8, max_length=32, precision="float32",
                         checkpoint_above_tokens=None, learning_rate=5e-3, warmup_ratio=0.0, teacher="tiny")
    with pytest.raises(InputError, match="16 training pairs have no label and no teacher targets"):
        train(data_root=tmp_path, output=tmp_path / "no", workdir=tmp_path / "w0", config=config, max_steps=1,
              pairs=PAIRS)
    targets = np.tile([0.05, 0.05, 0.9], (len(PAIRS), 1))
    log = train(data_root=tmp_path, output=tmp_path / "student", workdir=tmp_path / "w", config=config,
                max_steps=30, pairs=PAIRS, targets=targets)
    assert log["finished"] and log["config"]["teacher"] == "tiny"
    before = NLIModel(tiny_nli_model, precision="float32").predict([(p.premise, p.hypothesis) for p in PAIRS])
    after = NLIModel(tmp_path / "student", precision="float32").predict([(p.premise, p.hypothesis) for p in PAIRS])
    assert after[:, 2].mean() > 0.8 > before[:, 2].mean()


def test_checker_pairs_are_the_checkers_candidates_from_whole_documents(monkeypatch, tiny_checker):
    doc = ("The council approved the plan on Monday.", "Rain fell all week.", "The mayor spoke to reporters.",
           "Costs rose by ten percent.")
    documents = [ClaimDocument("The council backed the plan.", doc, "check_covid"),
                 ClaimDocument("Costs rose sharply.", doc, "wice")]
    monkeypatch.setattr(distil, "claim_documents", lambda root: list(documents))
    pairs = distil.checker_pairs(None, checker=tiny_checker, claims=10, seed=1)
    assert pairs and all(p.label is None for p in pairs)
    assert {p.dataset for p in pairs} <= {"checker:check_covid", "checker:wice"}
    assert {p.hypothesis for p in pairs} <= {d.claim for d in documents}
    assert all(p.premise in " ".join(doc) for p in pairs)
    expected = tiny_checker.candidate_pairs(documents[0].claim, [" ".join(doc)])
    assert [(p.premise, p.hypothesis) for p in pairs if p.hypothesis == documents[0].claim] == expected
    assert len(distil.checker_pairs(None, checker=tiny_checker, claims=1, seed=1)) <= len(pairs)


def test_distil_command_refuses_a_folder_that_is_not_a_model(tmp_path):
    from click.testing import CliRunner

    from nli_check.cli import main

    (tmp_path / "teacher").mkdir()
    result = CliRunner().invoke(main, ["distil", "--teacher", str(tmp_path / "teacher"), "--output",
                                       str(tmp_path / "student"), "--data", str(tmp_path), "--no-progress"])
    assert result.exit_code != 0 and "not a model folder (no config.json)" in result.output
    assert not (tmp_path / "student").exists()


def test_distil_end_to_end_writes_pairs_targets_and_a_student(tmp_path, monkeypatch, tiny_nli_model):
    labelled = [Pair(f"The council approved plan {i}.", f"Plan {i} was approved.", "entailment", "hand")
                for i in range(6)]
    doc = ("The council approved the plan on Monday.", "Rain fell all week.", "The mayor spoke to reporters.",
           "Costs rose by ten percent.")
    monkeypatch.setattr(distil, "training_pairs", lambda root, config: (list(labelled), None))
    monkeypatch.setattr(distil, "claim_documents", lambda root: [ClaimDocument("Costs rose sharply.", doc, "wice")])
    config = TrainConfig(base_model=str(tiny_nli_model), batch_size=4, max_length=32, precision="float32",
                         checkpoint_above_tokens=None)
    log = distil.distil(data_root=tmp_path, teacher=tiny_nli_model, output=tmp_path / "student",
                        workdir=tmp_path / "work", config=config, checker_claims=5, max_steps=2, precision="float32")
    formed = read_pairs(tmp_path / "work" / distil.CHECKER_PAIRS_FILE)
    assert formed and all(p.hypothesis == "Costs rose sharply." for p in formed)
    targets = (tmp_path / "work" / distil.TARGETS_FILE).read_text().splitlines()
    assert len(targets) == len(labelled) + len(formed)
    assert log["train_pairs"] == len(targets) and log["config"]["teacher"] == str(tiny_nli_model.resolve())
    assert any(key.startswith("checker:wice/") for key in log["train_counts"])
    assert (tmp_path / "student" / "model.safetensors").is_file()
