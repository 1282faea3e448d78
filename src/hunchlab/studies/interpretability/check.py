"""Does a run reproduce the papers? One row per invariant and per claim, from the runs' summary metrics.

Each claim is a difference between arms, scaled so that it means the same at
other sizes (features represented per hidden dimension; the share of the
copying gain an intervention removes; cosine above what random directions get
against the same dictionary), so variants meet the same thresholds. Thresholds
come from 5 seeds (run seeds 0-4, one training seed each) at the smoke budget.
Each is at least 3 sd of the effect's seed-to-seed spread (so zero cannot pass
by luck) and at least 3 sd below its mean, set where the mechanism puts a
meaningful floor (a nat of copying, a quarter of a dimension per feature).
Measured mean +- sd over the 5 seeds, and each broken arm's value (2 seeds):

superposition (n=20, m=5, 1,500 steps; broken arm relu=false)
  (max represented, ReLU - linear) / m          1.44 +- 0.22    threshold 0.6     (relu=false: 0.10 +- 0.14)
  (max represented - at the densest S) / m       1.40 +- 0.20    threshold 0.6     (relu=false: 0.00)
  (at the densest S, ReLU - linear) / m          0.04 +- 0.09    at most 0.25      (relu=false: 0.10)
  dims per feature: densest S - minimum          0.632 +- 0.028  threshold 0.25    (relu=false: 0.001)

induction-heads (vocab 32, periods 6-16, 2 heads, 400 steps; broken arms repeat=false, layer0_heads=other)
  loss, first part - repeated part (nats)        3.167 +- 0.025  threshold 1.0     (repeat=false: 0.000)
  induction score, layer 1 max - layer 0 max     0.770 +- 0.011  threshold 0.3     (repeat=false: 0.006)
  previous-token score, layer 0 max - layer 1    0.436 +- 0.010  threshold 0.2     (repeat=false: -0.011)
  layer 1 ablated: (rise repeated - first)/gain  0.963 +- 0.006  threshold 0.5, ceiling 1.5 (repeat=false: no
                                                                 gain, not measured)
  layer 0 ablated: (chosen - other) / gain       0.757 +- 0.093  threshold 0.3     (layer0_heads=other: -0.70 +- 0.16)
  layer 0 patched: (chosen - other) / gain       1.117 +- 0.054  threshold 0.5     (layer0_heads=other: -1.09 +- 0.10)
  layer-1 DLA to the next token, repeated-first  6.01 +- 0.14    threshold 2.0     (repeat=false: 0.003)

sparse-autoencoders (64 directions in R^16, p=0.04, dictionary 128, 1,500 steps; broken arms l1=false,
decoder_norm=false)
  MMCS true - random directions, best L1         0.375 +- 0.013  threshold 0.2     (l1=false: 0.018;
                                                                                    decoder_norm=false: 0.150)
  MMCS best L1 - no L1                           0.342 +- 0.011  threshold 0.2     (l1=false: 0.004;
                                                                                    decoder_norm=false: 0.109)
  MMCS true - random directions, no L1           0.003 +- 0.025  at most 0.08      (l1=false: 0.006)

The ablation share has a ceiling: mean-ablating the copying heads should
return the repeated part to about the first part's loss (a share near 1); far
beyond it, the ablation breaks more than copying. Variants checked by
mechanism (smoke budget, 2 seeds each): superposition at n=40/m=10 (gain 0.6-0.7,
"partly"), n=5/m=2 (1.5), m=8 (0.9), importance decay 0.9 (2.6); induction
heads with 1 or 4 heads per layer, periods 3-8 and 10-20, vocab 64; SAEs with
dictionaries of 64 and 512, p 0.02 and 0.08, and 128 directions in R^32 (MMCS
true - random 0.32-0.51 at the best L1, 0.00-0.05 without L1).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hunchlab.studies.checks import Claim, Invariant, Summary, equal, evaluate
from hunchlab.studies.checks import gap as _gap

MIN_GAP = 0.5  # nats: below this there is no copying gain to take a share of (a share would be noise over noise)


def _per_dim(effect: Callable[[Summary], float]) -> Callable[[Summary], float]:
    """An effect counted in features, as a multiple of the hidden width m."""
    return lambda m: effect(m) / float(m["n_hidden"])


def _share_of_gap(effect: Callable[[Summary], float]) -> Callable[[Summary], float]:
    """An effect in nats as a share of the copying gain; NaN (not measured) when there is no gain."""
    return lambda m: effect(m) / float(m["loss/gap"]) if float(m["loss/gap"]) > MIN_GAP else math.nan


ELHAGE = "Elhage et al. 2022, Toy Models of Superposition"

SUPERPOSITION_CLAIMS = [
    Claim("at high sparsity the ReLU model represents more features than it has dimensions; the linear "
          "model does not ((max represented, ReLU - linear) / m)",
          _per_dim(_gap("represented/relu/max", "represented/linear/max")), 0.6,
          f"{ELHAGE}, sec. 'Demonstrating Superposition' (n=20, m=5, importance 0.7^i, sparsity 0 to 99.9%): "
          "the ReLU model stores many more than 5 features as sparsity rises; the linear model stores the 5 most "
          "important at any sparsity",
          partly_below=1.0, note="'partly' below 1.0: fewer than about 2m features, the paper's n=20, m=5 picture"),
    Claim("superposition appears with sparsity ((max represented - represented at the densest S) / m)",
          _per_dim(_gap("represented/relu/max", "represented/relu/dense")), 0.6,
          f"{ELHAGE}, sec. 'Demonstrating Superposition': dense features -> m features, one per dimension; "
          "sparse -> superposition"),
    Claim("with dense features the ReLU model keeps about m features, as the linear model does "
          "((represented at the densest S, ReLU - linear) / m)",
          _per_dim(_gap("represented/relu/dense", "represented/linear/dense")), None,
          f"{ELHAGE}, sec. 'Demonstrating Superposition' (S=0): like PCA, the m most important features, "
          "each on its own dimension", at_most=0.25),
    Claim("dimensions per feature fall from 1 as features become sparse (D* at the densest S - its minimum)",
          _gap("dims_per_feature/relu/dense", "dims_per_feature/relu/min"), 0.25,
          f"{ELHAGE}, sec. 'The Geometry of Superposition', 'Feature Dimensionality': D* = m/||W||_F^2 "
          "falls from 1 toward 1/2 and below as sparsity grows"),
]

SUPERPOSITION_INVARIANTS = [
    Invariant("the linear baseline represents at most m+1 features at every sparsity (it cannot superpose; "
              "more means the bottleneck leaks)",
              lambda m: float(m["represented/linear/max"]) <= float(m["n_hidden"]) + 1),
    Invariant("the ReLU and linear models trained for the same steps on the same batches",
              lambda m: equal("steps/relu", "steps/linear")(m) and equal("examples/relu", "examples/linear")(m)),
]

OLSSON = "Olsson et al. 2022, In-context Learning and Induction Heads"

INDUCTION_CLAIMS = [
    Claim("the model copies: loss on the repeated part is far below the first part (nats)",
          _gap("loss/first", "loss/repeated"), 1.0,
          f"{OLSSON}, sec. 'Definitions' and Argument 1: induction heads let a model predict repeated "
          "random tokens; Elhage et al. 2021 show it in 2-layer attention-only models"),
    Claim("induction heads form in layer 1, not layer 0 (max induction score, layer 1 - layer 0)",
          _gap("score/induction/L1/max", "score/induction/L0/max"), 0.3,
          f"{OLSSON}, 'Definitions': an induction head needs a previous layer to compose with"),
    Claim("a previous-token head forms in layer 0 (max previous-token score, layer 0 - layer 1)",
          _gap("score/prev/L0/max", "score/prev/L1/max"), 0.2,
          "Elhage et al. 2021, A Mathematical Framework for Transformer Circuits, 'Induction Heads': "
          "K-composition with a layer-0 previous-token head"),
    Claim("ablating the layer-1 heads together removes the copying gain, on the repeated part only "
          "((rise on repeated - rise on first) / gain)",
          _share_of_gap(_gap("ablate/layer1", "ablate/layer1/first")), 0.5,
          f"{OLSSON}, Argument 3 (ablations remove in-context learning in small attention-only models)",
          ceiling=1.5),
    Claim("ablating the layer-0 previous-token head(s) breaks copying; ablating the other layer-0 heads "
          "does not ((rise, chosen - other) / gain)",
          _share_of_gap(_gap("ablate/layer0/chosen", "ablate/layer0/unchosen")), 0.3,
          "Elhage et al. 2021, 'Induction Heads': the induction head reads the previous-token head's "
          "output through its keys"),
    Claim("patching the layer-0 previous-token head(s) from other sequences breaks copying; patching "
          "the other layer-0 heads does not ((rise, chosen - other) / gain)",
          _share_of_gap(_gap("patch/layer0/chosen", "patch/layer0/unchosen")), 0.5,
          "activation patching (Meng et al. 2022; Wang et al. 2022, the IOI circuit) applied to Olsson "
          "et al.'s circuit"),
    Claim("the layer-1 heads write the copied token directly (direct logit attribution to the true "
          "next token, repeated - first part)",
          _gap("dla/layer1/repeated", "dla/layer1/first"), 2.0,
          "Elhage et al. 2021, 'Induction Heads': the induction head's OV circuit copies the attended "
          "token to the output"),
]

INDUCTION_INVARIANTS = [
    Invariant("the first part is unpredictable: its loss is at least ln(vocab) - 0.1 (lower means the "
              "model sees tokens it should not, e.g. through the causal mask)",
              lambda m: float(m["loss/first"]) >= float(m["ln_vocab"]) - 0.1),
    Invariant("patches come from other sequences: at least 80% of their tokens differ",
              lambda m: float(m["eval/source_differs"]) >= 0.8),
    Invariant("logit attribution adds up to the model's logits (largest error below 1e-3)",
              lambda m: float(m["dla/residual_error"]) < 1e-3),
]

SHARKEY = ("Sharkey et al. 2022, Taking features out of superposition with sparse autoencoders; "
           "Bricken et al. 2023, Towards Monosemanticity")

SAE_CLAIMS = [
    Claim("at the best L1 the dictionary finds the true directions, far better than random directions "
          "(MMCS true - MMCS random, same dictionary)",
          _gap("mmcs/true/best", "mmcs/random/best"), 0.2,
          f"{SHARKEY}: Sharkey et al.'s toy data (sec. 'Results') reach MMCS above 0.9 at a good L1",
          partly_below=0.3, note="'partly' below 0.3: short of the paper's MMCS above 0.9 against a chance of 0.6"),
    Claim("the L1 penalty is what recovers them (MMCS at the best L1 - at L1 = 0)",
          _gap("mmcs/true/best", "mmcs/true/none"), 0.2,
          f"{SHARKEY}: without a sparsity penalty an overcomplete autoencoder has no reason to align "
          "with the features"),
    Claim("without L1 the dictionary matches true directions no better than random ones "
          "(MMCS true - random at L1 = 0)",
          _gap("mmcs/true/none", "mmcs/random/none"), None,
          "the chance level: random directions against the same dictionary (0.60-0.62 in a prototype)",
          at_most=0.08),
]

SAE_INVARIANTS = [
    Invariant("every SAE of the sweep trained on the same number of samples",
              lambda m: len({v for k, v in m.items() if k.startswith("examples/")}) == 1),
    Invariant("random directions are as many as the true ones and scored against the same dictionary",
              equal("random_directions", "true_directions")),
    Invariant("decoder columns have unit norm, so the L1 penalty cannot be dodged by shrinking codes",
              lambda m: all(float(v) < 1e-4 for k, v in m.items() if k.startswith("decoder_norm_error/"))),
]


def check_superposition(summaries: list[Summary]) -> list[dict[str, Any]]:
    return evaluate("superposition", SUPERPOSITION_CLAIMS, SUPERPOSITION_INVARIANTS, summaries)


def check_induction_heads(summaries: list[Summary]) -> list[dict[str, Any]]:
    return evaluate("induction-heads", INDUCTION_CLAIMS, INDUCTION_INVARIANTS, summaries)


def check_sparse_autoencoders(summaries: list[Summary]) -> list[dict[str, Any]]:
    return evaluate("sparse-autoencoders", SAE_CLAIMS, SAE_INVARIANTS, summaries)
