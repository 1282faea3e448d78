"""hunchlab.interp on tiny models whose right answer is known by construction."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn as nn

from hunchlab.errors import HunchError
from hunchlab.interp import (
    BIAS,
    HeadLayout,
    HookPoint,
    Norm,
    ablate_heads,
    attention_patterns,
    direct_logit_attribution,
    fit_probe,
    head_contributions,
    head_patch,
    hooks,
    induction_score,
    mean,
    module_paths,
    offset_score,
    only,
    patches_from,
    run_with_cache,
    run_with_patch,
    stored,
    zero,
)

torch.set_num_threads(1)  # the house rule for tests; these models are far too small to need more


def no_hooks_left(model: nn.Module) -> bool:
    return hook_count(model) == 0


def hook_count(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


class Pair(nn.Module):
    """Returns a tuple, as Hugging Face modules do: (x + 1, x * 2)."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x + 1, x * 2


class Chain(nn.Module):
    """y = sum of out(relu(inner(x))) with hand-set weights, and a tuple-returning block."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = nn.Linear(2, 3, bias=False)
        self.out = nn.Linear(3, 1, bias=True)
        self.pair = Pair()
        with torch.no_grad():
            self.inner.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]))
            self.out.weight.fill_(1.0)
            self.out.bias.fill_(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.inner(x))
        first, _ = self.pair(h)
        return self.out(first)


X = torch.tensor([[2.0, 1.0], [0.0, 3.0]])  # inner: [[2,1,1],[0,3,-3]]


# ---------------------------------------------------------------------------
# taps, the cache and hooks


def test_cache_reads_outputs_inputs_and_tuple_elements() -> None:
    model = Chain()
    out, cache = run_with_cache(model, X, ["inner", "pair:output.1", "out:input", "pair"])
    assert cache["inner"].tolist() == [[2, 1, 1], [0, 3, -3]]
    assert cache["pair:output.1"].tolist() == [[4, 2, 2], [0, 6, 0]]  # relu then * 2
    assert cache["out:input"].tolist() == [[3, 2, 2], [1, 4, 1]]
    assert torch.equal(cache["pair"], cache["out:input"])  # a tuple output reads as its first element
    assert out.tolist() == [[7.5], [6.5]]
    assert no_hooks_left(model)


def test_a_star_names_every_matching_module() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    _, cache = run_with_cache(model, X, ["*"])
    assert set(cache) == {"", "0", "1", "2"}
    assert module_paths(model, "[02]") == ["0", "2"]


def test_unknown_taps_say_what_exists() -> None:
    with pytest.raises(HunchError, match="did you mean 'inner'"):
        run_with_cache(Chain(), X, ["iner"])
    with pytest.raises(HunchError, match="cannot read tap"):
        run_with_cache(Chain(), X, ["inner:outptu"])
    with pytest.raises(HunchError, match="element 5 of 2"):
        run_with_cache(Chain(), X, ["pair:output.5"])


def test_hooks_are_removed_when_the_block_raises() -> None:
    model = Chain()
    with pytest.raises(RuntimeError, match="boom"), hooks(model, {"inner": lambda t: None, "out:input": zero()}):
        assert not no_hooks_left(model)
        raise RuntimeError("boom")
    assert no_hooks_left(model)


def test_hooks_are_removed_when_the_forward_pass_or_a_later_name_fails() -> None:
    model = Chain()

    def explode(t: torch.Tensor) -> None:
        raise ValueError("inside the forward pass")

    with pytest.raises(ValueError, match="inside"), hooks(model, {"inner": explode}):
        model(X)
    assert no_hooks_left(model)
    with pytest.raises(HunchError):  # the first tap was registered before the second failed to resolve
        run_with_cache(model, X, ["inner", "nowhere"])
    assert no_hooks_left(model)


# ---------------------------------------------------------------------------
# patches


def test_zero_mean_stored_and_function_patches() -> None:
    model = Chain()
    assert run_with_patch(model, X, {"inner": zero()}).tolist() == [[3.5], [3.5]]  # relu(0) + 1 per unit, + 0.5
    # mean over the batch of inner: [1, 2, -1] -> relu [1, 2, 0] + 1 -> 6, + 0.5
    assert run_with_patch(model, X, {"inner": mean()}).tolist() == [[6.5], [6.5]]
    assert run_with_patch(model, X, {"inner": torch.tensor([1.0, 1.0, 1.0])}).tolist() == [[6.5], [6.5]]
    assert run_with_patch(model, X, {"inner": stored(torch.ones(3))}).tolist() == [[6.5], [6.5]]
    assert run_with_patch(model, X, {"inner": lambda t: -t}).tolist() == [[3.5], [6.5]]  # relu(-inner) + 1
    assert run_with_patch(model, X, {"out:input": only(zero(), (slice(None), 0))}).tolist() == [[4.5], [5.5]]
    with pytest.raises(HunchError, match="shape"):
        run_with_patch(model, X, {"inner": torch.ones(5)})
    assert no_hooks_left(model)


def test_patching_from_another_input_carries_its_output_through() -> None:
    model = Chain()
    other = torch.tensor([[1.0, 1.0], [5.0, 0.0]])
    source = patches_from(model, other, ["inner"])
    assert torch.equal(run_with_patch(model, X, source), model(other))  # everything flows through inner
    only_first = {"inner": only(source["inner"], (0,))}
    assert run_with_patch(model, X, only_first).tolist() == [model(other)[0].tolist(), model(X)[1].tolist()]


# ---------------------------------------------------------------------------
# heads


class TwoHeads(nn.Module):
    """Two 'heads' of width 2 concatenated into an output projection that sums everything."""

    def __init__(self) -> None:
        super().__init__()
        self.c_proj = nn.Linear(4, 1, bias=False)
        self.hook_z = HookPoint()
        nn.init.ones_(self.c_proj.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = torch.stack([x, 10 * x], dim=-2)  # (B, nh=2, hs=2): head 1 writes 10x head 0
        z = self.hook_z(z)
        return self.c_proj(z.flatten(-2))  # (B, 4) -> (B, 1)


def test_head_ablation_by_index_in_both_layouts() -> None:
    model = TwoHeads()
    x = torch.tensor([[1.0, 2.0]])  # head 0 writes 3, head 1 writes 30
    concatenated = HeadLayout("c_proj:input", n_heads=2)
    split = HeadLayout("hook_z", n_heads=2, split=True, axis=-2)
    for layout in (concatenated, split):
        assert ablate_heads(model, x, (layout, [1])).item() == 3.0
        assert ablate_heads(model, x, (layout, [0])).item() == 30.0
        assert ablate_heads(model, x, (layout, [0, 1])).item() == 0.0
    batch = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # mean of head 1 over the batch: 10 * [2, 3] -> 50
    assert ablate_heads(model, batch, (concatenated, [1]), how="mean").tolist() == [[53.0], [57.0]]
    with pytest.raises(HunchError, match="divisible"):
        ablate_heads(model, x, (HeadLayout("c_proj:input", n_heads=3), [0]))
    with pytest.raises(HunchError, match="out of range"):
        ablate_heads(model, x, (concatenated, [2]))
    assert no_hooks_left(model)


def test_a_head_patched_from_another_input_brings_only_that_head() -> None:
    model = TwoHeads()
    x, other = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.5]])
    layout = HeadLayout("c_proj:input", n_heads=2)
    source = patches_from(model, other, [layout.tap])[layout.tap]
    assert run_with_patch(model, x, head_patch(layout, [1], source)).item() == 3.0 + 5.0


def test_head_contributions_add_up_to_the_projection() -> None:
    torch.manual_seed(0)
    proj = nn.Linear(6, 4)
    z = torch.randn(5, 7, 6)
    layout = HeadLayout("c_proj:input", n_heads=3)
    parts = head_contributions(z, layout, proj)  # (5, 7, 3, 4)
    assert parts.shape == (5, 7, 3, 4)
    assert torch.allclose(parts.sum(-2) + proj.bias, proj(z), atol=1e-6)
    alone = z.clone()
    alone[..., 2:] = 0  # only head 0
    assert torch.allclose(parts[..., 0, :], proj(alone) - proj.bias, atol=1e-6)


# ---------------------------------------------------------------------------
# attention patterns


class FixedAttention(nn.Module):
    """Head 0 attends to the previous token (the first to itself), head 1 uniformly over the past."""

    def __init__(self) -> None:
        super().__init__()
        self.hook_pattern = HookPoint()

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        B, T = tokens.shape
        previous = torch.zeros(T, T)
        previous[torch.arange(T), (torch.arange(T) - 1).clamp(min=0)] = 1
        uniform = torch.tril(torch.ones(T, T)) / torch.arange(1, T + 1)[:, None]
        pattern = torch.stack([previous, uniform]).expand(B, 2, T, T)  # (B, nh, T, T)
        return self.hook_pattern(pattern).sum()


def test_previous_token_and_induction_scores_from_known_patterns() -> None:
    tokens = torch.zeros(3, 8, dtype=torch.long)
    pattern = attention_patterns(FixedAttention(), tokens, ["hook_pattern"])["hook_pattern"]
    previous = offset_score(pattern, 1)
    assert previous[0].item() == 1.0
    assert previous[1].item() == pytest.approx(sum(1 / (q + 1) for q in range(1, 8)) / 7)
    # A sequence repeating with period 3: from position 3 on, the induction target is q - 2.
    induction_pattern = torch.zeros(1, 1, 8, 8)
    for q in range(8):
        induction_pattern[0, 0, q, q - 2 if q >= 3 else q] = 1
    repeated = (torch.arange(8) >= 3)[None]
    assert offset_score(induction_pattern, torch.tensor([2]), repeated).item() == 1.0
    assert offset_score(induction_pattern, 1, repeated).item() == 0.0


def test_induction_score_finds_every_earlier_occurrence_from_the_tokens() -> None:
    tokens = torch.tensor([[5, 7, 9, 5, 7, 9, 5, 7]])  # period 3, repeated: queries 3.. have earlier occurrences
    copier = torch.zeros(1, 2, 8, 8)
    copier[0, :, 0, 0] = copier[0, :, 1, 1] = copier[0, :, 2, 2] = 1
    for q in range(3, 8):
        copier[0, 0, q, q - 2] = 1.0  # head 0: the token after the latest occurrence
        copier[0, 1, q, q] = 1.0  # head 1: itself
    half = copier.clone()
    half[0, 0, 6] = 0
    half[0, 0, 6, 1] = half[0, 0, 6, 4] = 0.5  # both earlier occurrences of token 5, split
    assert induction_score(copier, tokens).tolist() == [1.0, 0.0]
    assert induction_score(half, tokens)[0].item() == 1.0
    assert induction_score(copier, tokens, queries=torch.arange(8)[None] >= 6)[0].item() == 1.0
    with pytest.raises(HunchError, match="tokens"):
        induction_score(copier, tokens[:, :5])


def test_a_tap_that_is_not_a_pattern_is_refused() -> None:
    with pytest.raises(HunchError, match="not an attention pattern"):
        attention_patterns(Chain(), X, ["inner"])


# ---------------------------------------------------------------------------
# direct logit attribution


@pytest.mark.parametrize("norm", [None, "layer", "rms"])
def test_direct_logit_attribution_adds_up_to_the_logit(norm: str | None) -> None:
    torch.manual_seed(1)
    parts = {"embed": torch.randn(4, 5, 8), "head 0": torch.randn(4, 5, 8), "head 1": torch.randn(4, 5, 8)}
    unembed = nn.Linear(8, 11)
    final: nn.Module = {None: nn.Identity(), "layer": nn.LayerNorm(8), "rms": nn.RMSNorm(8)}[norm]
    with torch.no_grad():
        for p in final.parameters():
            p.uniform_(0.5, 1.5)
        logits = unembed(final(sum(parts.values())))
    tokens, against = torch.randint(11, (4, 5)), torch.randint(11, (4, 5))
    dla = direct_logit_attribution(parts, unembed, tokens, against, norm=None if norm is None else final)
    target = logits.gather(-1, tokens[..., None])[..., 0] - logits.gather(-1, against[..., None])[..., 0]
    assert set(dla) == {"embed", "head 0", "head 1", BIAS}
    assert torch.allclose(sum(dla.values()), target, atol=1e-4)


def test_a_part_orthogonal_to_the_readout_gets_nothing() -> None:
    unembed = torch.eye(3)  # token t reads coordinate t
    parts = {"writes 0": torch.tensor([[2.0, 0.0, 0.0]]), "writes 1": torch.tensor([[0.0, 5.0, 0.0]])}
    dla = direct_logit_attribution(parts, unembed, torch.tensor([0]))
    assert dla["writes 0"].item() == 2.0 and dla["writes 1"].item() == 0.0
    with pytest.raises(HunchError, match="cannot read a Identity"):
        direct_logit_attribution(parts, unembed, torch.tensor([0]), norm=nn.Identity())
    described = Norm(center=False, weight=torch.ones(3), eps=0.0)  # an RMSNorm described by hand
    scaled = direct_logit_attribution(parts, unembed, torch.tensor([0]), norm=described)
    assert scaled["writes 0"].item() == pytest.approx(2.0 / math.sqrt((4 + 25) / 3))


# ---------------------------------------------------------------------------
# probes


def test_a_probe_reads_a_planted_direction_and_not_shuffled_labels() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 16, generator=g) * torch.linspace(0.5, 3, 16)  # unequal scales
    v = torch.randn(16, generator=g)
    y = (x @ v > 0).long()
    probe = fit_probe(x[:1000], y[:1000])
    assert probe.score(x[1000:], y[1000:]) > 0.97
    assert torch.cosine_similarity(probe.direction()[1] - probe.direction()[0], v, dim=0) > 0.9
    shuffled = fit_probe(x[:1000], y[:1000][torch.randperm(1000, generator=g)])
    assert abs(shuffled.score(x[1000:], y[1000:]) - 0.5) < 0.06
    target = x @ v + 0.1 * torch.randn(2000, generator=g)
    assert fit_probe(x[:1000], target[:1000]).score(x[1000:], target[1000:]) > 0.99
    with pytest.raises(HunchError, match="labels"):
        fit_probe(x, y[:10])


# ---------------------------------------------------------------------------
# the documentation's example runs as written


def test_the_docs_example_runs_on_a_users_own_model() -> None:
    page = (Path(__file__).parents[2] / "docs" / "interp.md").read_text()
    code = re.search(r"```python\n(.*?)```", page, re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), "docs/interp.md", "exec"), namespace)
    assert namespace["rise"] > 0  # ablating the heads that copy hurts the model on the copied tokens


# ---------------------------------------------------------------------------
# a Hugging Face model, addressed by its module paths alone (randomly initialised: nothing downloaded)


def tiny_llama() -> Any:
    """A randomly initialised two-layer Llama (4 heads, 2 key-value heads, 50 tokens): nothing downloaded."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.LlamaConfig(num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                      hidden_size=32, intermediate_size=64, vocab_size=50,
                                      attn_implementation="eager")
    return transformers.LlamaForCausalLM(config).eval()


def test_a_hugging_face_llama_is_tapped_ablated_and_attributed_by_path() -> None:
    model = tiny_llama()
    ids = torch.randint(50, (2, 10))
    with torch.no_grad():
        model(input_ids=ids, output_attentions=True)  # transformers adds hooks of its own on a first such call
    own_hooks = hook_count(model)
    taps = ["model.embed_tokens", "model.layers.*.self_attn", "model.layers.*.mlp", "model.layers.0.self_attn:output.1",
            "model.layers.1.self_attn.o_proj:input"]
    with torch.no_grad():
        out, cache = run_with_cache(model, {"input_ids": ids, "output_attentions": True}, taps)
    assert cache["model.layers.0.self_attn:output.1"].shape == (2, 4, 10, 10)
    layout = HeadLayout("model.layers.1.self_attn.o_proj:input", n_heads=4)
    o_proj = model.model.layers[1].self_attn.o_proj
    heads = head_contributions(cache[layout.tap], layout, o_proj)
    assert torch.allclose(heads.sum(-2), cache["model.layers.1.self_attn"], atol=1e-5)  # o_proj has no bias
    parts = {name: cache[name] for name in taps[:1]} | {f"{kind}{i}": cache[f"model.layers.{i}.{kind}"]
                                                      for i in range(2) for kind in ("self_attn", "mlp")}
    norm = model.model.norm
    target = ids.roll(-1, dims=1)
    dla = direct_logit_attribution(parts, model.lm_head, target,
                                   norm=Norm(center=False, weight=norm.weight, eps=norm.variance_epsilon))
    assert torch.allclose(sum(dla.values()), out.logits.gather(-1, target[..., None])[..., 0], atol=1e-4)
    with torch.no_grad():
        ablated = ablate_heads(model, {"input_ids": ids}, (layout, [0, 1, 2, 3])).logits
    assert not torch.allclose(ablated, out.logits)
    assert hook_count(model) == own_hooks


def word_tokenizer(words: list[str]) -> Any:
    """A word-level tokenizer over ``words``, built here (no tokenizer is downloaded)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", *words])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]")


def test_a_model_loaded_from_a_folder_caches_each_layer_and_a_patched_layer_carries_the_other_input(
        tmp_path: Path) -> None:
    from hunchlab.models.local import load_local

    original = tiny_llama()
    original.save_pretrained(tmp_path / "tiny")
    word_tokenizer("the a cat dog sat ran on under mat rug".split()).save_pretrained(tmp_path / "tiny")
    local = load_local(tmp_path / "tiny")
    assert local.layers() == ["model.layers.0", "model.layers.1"]
    clean, corrupt = local.inputs(["the cat sat on the mat"]), local.inputs(["a dog ran under a rug"])
    assert clean["input_ids"].shape == corrupt["input_ids"].shape == (1, 6)
    with torch.no_grad():
        assert torch.equal(local.model(**clean).logits, original(**clean).logits)  # the folder holds the same model
        local.model(**clean, output_hidden_states=True)  # transformers adds hooks of its own on a first such call
        own_hooks = hook_count(local.model)
        out, cache = run_with_cache(local.model, {**clean, "output_hidden_states": True}, local.layers())
        for i, layer in enumerate(local.layers()[:-1]):  # hidden_states[i + 1] is layer i's output (the last is normed)
            assert torch.equal(cache[layer], out.hidden_states[i + 1])
        last = local.layers()[-1]
        dirty = local.model(**corrupt).logits
        patched = run_with_patch(local.model, corrupt, patches_from(local.model, clean, [last])).logits
        assert torch.equal(patched, out.logits)  # everything after the last layer comes from its output
        first = local.layers()[0]
        from_clean = patches_from(local.model, clean, [first])[first]
        at_end = run_with_patch(local.model, corrupt, {first: only(from_clean, (slice(None), slice(5, 6)))}).logits
        assert torch.equal(at_end[:, :5], dirty[:, :5])  # causal: earlier positions cannot see the last one
        assert not torch.allclose(at_end[:, 5], dirty[:, 5])
        ablated = run_with_patch(local.model, clean, {"model.layers.0.mlp": zero()}).logits
        assert not torch.allclose(ablated, out.logits)
    assert hook_count(local.model) == own_hooks


def test_a_folder_that_is_not_a_model_is_a_clean_error(tmp_path: Path) -> None:
    from hunchlab.models.local import load_local

    with pytest.raises(HunchError, match="not a Hugging Face model folder"):
        load_local(tmp_path)
    pytest.importorskip("transformers")
    tiny_llama().save_pretrained(tmp_path / "no-tokenizer")
    with pytest.raises(HunchError, match="has no tokenizer"):
        load_local(tmp_path / "no-tokenizer").inputs(["hello"])
