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
    """``total`` carries the gradient; the parts are values."""

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


def predicted_logits(model, hidden: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Logits only at the rows L_NIG reads: the vocabulary projection is the largest product."""
    flat = hidden.reshape(-1, hidden.shape[-1])
    return causal_lm(model).get_output_embeddings()(flat.index_select(0, batch.predicted_rows)).float()


class Collectives:
    """Sums and gathers across processes (no-ops for one)."""

    def __init__(self, world: int):
        self.world = world

    def sum(self, value: float, device) -> float:
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=device)
        torch.distributed.all_reduce(t)
        return float(t.item())

    def average_gradients(self, parameters):
        """The mean of every process's gradients, in one all-reduce of the flattened gradients."""
        if self.world == 1:
            return
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in parameters]
        flat = torch.cat([g.reshape(-1) for g in grads])
        torch.distributed.all_reduce(flat)
        flat /= self.world
        offset = 0
        for p, g in zip(parameters, grads):
            n = g.numel()
            p.grad = flat[offset: offset + n].view_as(p).clone()
            offset += n

    def gather_rows(self, rows: torch.Tensor, count: int, padded: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Every process's ``rows`` (its first ``count`` valid, padded to ``padded``), concatenated in
        rank order, and the validity mask. Only this process's own block carries its gradient (the
        others arrive as values), so backward needs no collective."""
        if self.world == 1:
            return rows[:count], torch.ones(count, dtype=torch.bool, device=rows.device)
        pad = rows.new_zeros((padded - rows.shape[0], rows.shape[1]))
        block = torch.cat([rows, pad]) if pad.shape[0] else rows
        valid = torch.zeros(padded, dtype=torch.bool, device=rows.device)
        valid[:count] = True
        blocks = [torch.empty_like(block) for _ in range(self.world)]
        torch.distributed.all_gather(blocks, block.detach().contiguous())
        blocks[torch.distributed.get_rank()] = block
        masks = [torch.empty_like(valid) for _ in range(self.world)]
        torch.distributed.all_gather(masks, valid)
        return torch.cat(blocks), torch.cat(masks)


def dataset_losses(model, batch, collectives, global_count, alpha, beta, tau, hidden_size, device):
    """The objective's parts for one dataset's examples of the global micro-batch, of which this
    process holds ``batch`` (None: none of them); returns (the loss this process backpropagates, the
    global parts, the tokens it ran). With one process this is ``calrec_losses``."""
    w = collectives.world
    local = batch.size if batch is not None else 0
    if local:
        hidden = hidden_states(model, batch.joint)
        logits = predicted_logits(model, hidden, batch)
        token_sum = F.cross_entropy(logits, batch.predicted_targets, reduction="sum")
        target_tokens = float(batch.predicted_rows.numel())
        # Tokens through the model, as the Swift trainer counts them: the joint pass and the target pass.
        tokens = float(batch.joint.numel() + (batch.target_only.numel() if alpha != 0 or beta != 0 else 0))
    else:
        batch, hidden = None, None
        token_sum = torch.zeros((), device=device)
        target_tokens = tokens = 0.0
    all_tokens = collectives.sum(target_tokens, device)
    nig_local = token_sum / all_tokens
    nig = collectives.sum(float(token_sum.detach()), device) / all_tokens
    # DDP averages gradients over processes: the local token sum counts W times to give the global mean.
    loss = (1 - alpha - beta) * nig_local * w
    tt = ut = 0.0
    if alpha != 0 or beta != 0:
        padded = -(-global_count // w)  # the largest slice
        if local:
            joint_target = F.normalize(mean_pool(hidden, batch.target_mask).float(), dim=-1, eps=1e-12)
            joint_history = F.normalize(mean_pool(hidden, batch.history_mask).float(), dim=-1, eps=1e-12)
            alone = hidden_states(model, batch.target_only)
            target = F.normalize(mean_pool(alone, batch.target_only_mask).float(), dim=-1, eps=1e-12)
            vectors = torch.cat([joint_target, joint_history, target], dim=1)
        else:
            vectors = torch.zeros((0, 3 * hidden_size), device=device)
        gathered, valid = collectives.gather_rows(vectors, local, padded)
        gathered = gathered[valid]
        c = hidden_size
        a_target, a_history, b = gathered[:, :c], gathered[:, c: 2 * c], gathered[:, 2 * c:]
        tt_loss = info_nce(a_target, b, tau)
        ut_loss = info_nce(a_history, b, tau)
        # Every process computes the same global InfoNCE, differentiated through its own vectors only;
        # DDP's averaging over the W processes then needs the factor W, as for L_NIG.
        loss = loss + (alpha * tt_loss + beta * ut_loss) * w
        tt, ut = float(tt_loss.detach()), float(ut_loss.detach())
    total = (1 - alpha - beta) * nig + alpha * tt + beta * ut
    return loss, dict(loss=total, nig=nig, tt=tt, ut=ut), tokens


def calrec_losses(model, batch: Batch, alpha: float = 0.125, beta: float = -0.025, temperature: float = 0.5) -> Losses:
    """The objective of one process's batch (the trainer's own code, with one process)."""
    lm = causal_lm(model)
    hidden_size = getattr(lm.config, "hidden_size", None) or lm.config.n_embd
    loss, parts, _ = dataset_losses(model, batch, Collectives(1), batch.size, alpha, beta, temperature, hidden_size, batch.joint.device)
    as_tensor = lambda v: torch.tensor(v)
    return Losses(loss, as_tensor(parts["nig"]), as_tensor(parts["tt"]), as_tensor(parts["ut"]))
