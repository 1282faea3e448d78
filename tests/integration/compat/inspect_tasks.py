"""An inspect_ai task written for these tests: two-digit sums answered by inspect's mock model.

The mock (``mockllm/model`` with a ``custom_outputs`` function, so nothing leaves the
machine) drops the carry, as a careless adder does, unless the system prompt tells it to
carry (``-T prompt=careful``). With ``-T noisy=true`` it also slips on the k-th time it sees
a problem where ``(a + k) % 3 == 0``, so epochs of one sample disagree in a known way. It
sets token usage itself: mockllm would otherwise count tokens with tiktoken, which
downloads its encoding.
"""

PAIRS = [(12, 5), (17, 8), (23, 14), (36, 47), (41, 30), (58, 27), (62, 16), (75, 19), (80, 11), (94, 3)]
CARRY = {f"q{i}" for i, (a, b) in enumerate(PAIRS) if a % 10 + b % 10 >= 10}  # q1 q3 q5 q7


def slips(a: int, k: int) -> bool:
    """Whether the noisy mock errs on the k-th (0-based) time it sees a problem starting with a."""
    return (a + k) % 3 == 0


TASK = '''
from collections import Counter

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import match
from inspect_ai.solver import generate, system_message

PAIRS = %r


def mock(noisy):
    seen = Counter()

    def answer(messages, tools, tool_choice, config):
        a, b = [int(w) for w in messages[-1].text.rstrip("?").split() if w.isdigit()]
        careful = "carry" in messages[0].text
        total = a + b if careful or a %% 10 + b %% 10 < 10 else a + b - 10
        if noisy and (a + seen[a]) %% 3 == 0:
            total += 1
        seen[a] += 1
        out = ModelOutput.from_content(model="mockllm/model", content=f"{a} + {b} = {total}")
        out.usage = ModelUsage(input_tokens=12, output_tokens=5, total_tokens=17)
        return out

    return answer


@task
def arith(prompt: str = "plain", noisy: bool = False):
    samples = [Sample(id=f"q{i}", input=f"What is {a} + {b}?", target=str(a + b),
                      metadata={"carry": a %% 10 + b %% 10 >= 10, "tens": a // 10})
               for i, (a, b) in enumerate(PAIRS)]
    system = "Add the numbers; remember to carry." if prompt == "careful" else "Add the numbers."
    return Task(dataset=samples, solver=[system_message(system), generate()], scorer=match(location="end"),
                model=get_model("mockllm/model", custom_outputs=mock(noisy)))
''' % (PAIRS,)

# The same task with a scorer that raises: inspect ends the eval with status "error".
BROKEN = TASK.replace('scorer=match(location="end")', "scorer=explode()") + '''

from inspect_ai.scorer import accuracy, scorer


@scorer(metrics=[accuracy()])
def explode():
    async def score(state, target):
        raise RuntimeError("the scorer broke")

    return score
'''
