"""A small attention-only transformer (nanoGPT without the MLPs), with taps for hunchlab.interp.

Olsson et al. 2022 study induction heads in attention-only models because
without MLPs every path from input to logits runs through attention heads and
the residual stream. Each block is ``x + attn(ln(x))``; heads are concatenated
into ``c_proj`` (so ``blocks.L.attn.c_proj:input`` holds layer L's heads, head h
at ``[h*hs:(h+1)*hs]``) and the softmaxed pattern passes a ``HookPoint`` named
``blocks.L.attn.hook_pattern``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from hunchlab.interp import HeadLayout, HookPoint


@dataclass
class TransformerConfig:
    vocab_size: int = 32
    block_size: int = 32  # longest sequence
    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 64


class CausalSelfAttention(nn.Module):
    mask: torch.Tensor  # (block_size, block_size), True where a query may attend

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)  # q, k, v for all heads at once
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        self.hook_pattern = HookPoint()  # (B, nh, T, T)
        mask = torch.tril(torch.ones(config.block_size, config.block_size, dtype=torch.bool))
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        att = (q @ k.transpose(-2, -1)) / (k.size(-1) ** 0.5)  # (B, nh, T, T)
        att = att.masked_fill(~self.mask[:T, :T], float("-inf"))
        att = self.hook_pattern(F.softmax(att, dim=-1))
        y = att @ v  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, nh*hs): heads side by side
        out: torch.Tensor = self.c_proj(y)
        return out


class Block(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.ln = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.attn(self.ln(x))
        return out


class AttentionOnly(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))  # of Block
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T = idx.size()
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))  # (B, T, C)
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))  # (B, T, vocab)
        loss = None
        if targets is not None:  # targets of -1 are not scored
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1)
        return logits, loss

    def attention(self, layer: int) -> CausalSelfAttention:
        block = self.blocks[layer]
        assert isinstance(block, Block)
        return block.attn

    def heads(self, layer: int) -> HeadLayout:
        """Where layer ``layer``'s heads are, for hunchlab.interp."""
        return HeadLayout(f"blocks.{layer}.attn.c_proj:input", n_heads=self.config.n_head)
