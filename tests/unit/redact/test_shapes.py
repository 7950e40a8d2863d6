"""redact_lines.lines_to_look_at: looking for trigger words once per line *shape* finds
exactly the lines a line-by-line look finds (repetitive logs, digit-bearing triggers, learned
values, unique lines)."""

from __future__ import annotations

import random

from diagnose.redact import rules as rr
from diagnose.redact.lines import lines_to_look_at
from diagnose.redact.redactor import Redactor


def _reference(r: Redactor, text: str) -> set[int]:
    needles = (*rr.ALL_TRIGGERS, "-----")
    values = r.spread_values()
    out = set()
    for i, line in enumerate(text.split("\n")):
        low = line.lower()
        if any(n in low for n in needles) or any(v in line for v in values):
            out.add(i)
    return out


def _log(seed: int, repetitive: bool) -> str:
    rnd = random.Random(seed)
    words = ["request", "id=", "status", "GR1348941xyz", "dop_v1_abc", "Token", "pass", "ok",
             "-----BEGIN", "worker", "gr134894", "dop_v2_", "a1b2", "Bearer", "glpat-", "x"]
    lines = []
    for n in range(400):
        if repetitive and rnd.random() < 0.9:
            lines.append(f"2026-11-28T01:02:{n % 60:02d}.{n:09d}Z processed request id={n} "
                         f"status=200 bytes={n * 7}")
        else:
            lines.append(" ".join(rnd.choice(words) + str(rnd.randint(0, 99))
                                  for _ in range(rnd.randint(0, 6))))
    return "\n".join(lines) + ("\n" if seed % 2 else "")


def test_same_lines_as_a_line_by_line_look():
    r = Redactor(True)
    r.learn_inspect({"Config": {"Env": ["DB_PASSWORD=Sekr1t-4242"]}})
    for seed in range(40):
        for repetitive in (True, False):
            text = _log(seed, repetitive)
            if seed % 5 == 0:
                text += "\nconnecting with Sekr1t-4242 now\n"
            got = lines_to_look_at(r, text, text.split("\n"))
            assert got == _reference(r, text), (seed, repetitive)


def test_repetitive_log_without_triggers_needs_no_line():
    r = Redactor(True)
    text = "\n".join(f"2026-11-28T01:02:03.{n:09d}Z processed request id={n} status=200"
                     for n in range(2000))
    assert lines_to_look_at(r, text, text.split("\n")) == set()
