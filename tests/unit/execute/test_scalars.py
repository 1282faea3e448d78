"""Stdout scalars: the default patterns, what they must not read, and metrics_from."""

from __future__ import annotations

import pytest

from hunchlab.errors import SpecError
from hunchlab.execute.scalars import build


def _read(lines, metrics_from=None):
    got = []
    parser = build(metrics_from, command=True, log=lambda values, step: got.append((step, values)))
    assert parser is not None
    parser.feed("\n".join(lines).encode())
    parser.close()
    return got, parser.counts


def test_default_patterns():
    got, counts = _read(["loss: 0.52, acc: 81%", "loss=0.5 acc=0.8", "step 100 | loss 0.52 | lr 3e-4",
                         "iter 200: loss 1.2345, time 12.3ms", "val_loss: 0.3"])
    assert got == [(0, {"loss": 0.52, "acc": 81.0}), (1, {"loss": 0.5, "acc": 0.8}),
                   (100, {"loss": 0.52, "lr": 3e-4}), (200, {"loss": 1.2345, "time": 12.3}),
                   (200, {"val_loss": 0.3})]
    assert counts == {"key: value": 3, "key=value": 2, "step N … key value": 4}


@pytest.mark.parametrize("line", ["INFO: 3 files", "12:30:01 started", "Epoch 3 of 10", "saved to ckpt_3.pt",
                                  "[data] loaded shard 12 of 40", "lr=3e-4 warming up", "error: code 2 in line 3"])
def test_log_text_is_not_a_metric(line):
    assert _read([line]) == ([], {})


def test_keys_and_regexes_from_the_spec():
    lines = ["iter_dt 11.20ms; iter 100: train loss 1.23456", "test final score: 9800/10000 = 98.00% correct"]
    got, _ = _read(lines, ["train loss", r"final score: \d+/\d+ = (?P<test_acc>[\d.]+)%"])
    assert got == [(100, {"train_loss": 1.23456}), (100, {"test_acc": 98.0})]
    got, _ = _read(["epoch 3 acc=0.9"], [r"epoch (?P<step>\d+) (?P<key>\w+)=(?P<value>\S+)"])
    assert got == [(3, {"acc": 0.9})]


def test_a_line_split_across_chunks_is_read_once_whole():
    got = []
    parser = build(None, command=True, log=lambda values, step: got.append(values))
    assert parser is not None
    for chunk in (b"loss: 0.", b"25\nacc", b": 0.5"):
        parser.feed(chunk)
    parser.close()
    assert got == [{"loss": 0.25}, {"acc": 0.5}]


def test_off_and_python_entries():
    assert build(False, command=True, log=print) is None
    assert build(None, command=False, log=print) is None
    assert build(["loss"], command=False, log=print) is not None


def test_a_regex_without_a_named_group_is_a_spec_error():
    with pytest.raises(SpecError, match="no named group"):
        build([r"loss (\d+)"], command=True, log=print, where="exp.yaml")
    with pytest.raises(SpecError, match="not a valid regex"):
        build([r"loss ((?P<x>\d+)"], command=True, log=print, where="exp.yaml")
