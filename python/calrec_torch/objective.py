"""CALRec's objective as the Swift engine defines it (``Sources/CALRec/CALRecObjective.swift``):

    L = (1 − α − β)·L_NIG + α·L_TT + β·L_UT

L_NIG: mean cross-entropy of the target tokens (every target token of the batch weighs the same).
L_TT, L_UT: in-batch InfoNCE at temperature τ_c between L2-normalised mean-pooled last hidden
states (after the final norm): v^{T|U} (the target's positions of the joint pass) and v^U (its
history positions) against v^T (a separate pass over the target alone, same weights). For target
b_i the candidates are every a_j of the batch: logits b·aᵀ/τ, label i."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .export import Batch


@dataclass
class Losses:
    total: torch.Tensor
    next_item: torch.Tensor
    target_target: torch.Tensor
    user_target: torch.Tensor

    def floats(self) -> dict:
        return dict(loss=float(self.total), nig=float(self.next_item), tt=float(self.target_target), ut=float(self.user_target))


def causal_lm(model):
    """The transformers causal LM inside ``model`` (a PeftModel, a DDP/FSDP wrapper, or the model)."""
    inner = model
    while True:
        if hasattr(inner, "module") and not hasattr(inner, "get_output_embeddings"):
            inner = inner.module  # DistributedDataParallel
        elif hasattr(inner, "get_base_model"):
            inner = inner.get_base_model()  # peft
        else:
            return inner


def hidden_states(model, tokens: torch.Tensor) -> torch.Tensor:
    """Last hidden states (B, T, C) after the final norm; right padding needs no attention mask
    (under the causal mask no real token sees a later padding token)."""
    lm = causal_lm(model)
    return lm.base_model(input_ids=tokens, use_cache=False).last_hidden_state


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of the rows ``mask`` marks, per sequence; zeros where none is marked."""
    mask = mask.to(hidden.dtype).unsqueeze(-1)
    count = mask.sum(1)
    return (hidden * mask).sum(1) / count.clamp(min=1)


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    logits = b @ a.T / temperature
    return F.cross_entropy(logits, torch.arange(a.shape[0], device=a.device))


def calrec_losses(model, batch: Batch, alpha: float = 0.125, beta: float = -0.025, temperature: float = 0.5) -> Losses:
    lm = causal_lm(model)
    hidden = hidden_states(model, batch.joint)
    flat = hidden.reshape(-1, hidden.shape[-1])
    # Logits only at the rows L_NIG reads: the vocabulary projection is the largest product.
    logits = lm.get_output_embeddings()(flat.index_select(0, batch.predicted_rows)).float()
    next_item = F.cross_entropy(logits, batch.predicted_targets)
    zero = next_item.new_zeros(())
    if alpha == 0 and beta == 0:
        return Losses((1 - alpha - beta) * next_item, next_item, zero, zero)
    joint_target = F.normalize(mean_pool(hidden, batch.target_mask).float(), dim=-1, eps=1e-12)
    joint_history = F.normalize(mean_pool(hidden, batch.history_mask).float(), dim=-1, eps=1e-12)
    alone = hidden_states(model, batch.target_only)
    target = F.normalize(mean_pool(alone, batch.target_only_mask).float(), dim=-1, eps=1e-12)
    target_target = info_nce(joint_target, target, temperature)
    user_target = info_nce(joint_history, target, temperature)
    total = (1 - alpha - beta) * next_item + alpha * target_target + beta * user_target
    return Losses(total, next_item, target_target, user_target)
