"""Redaction runs in time linear in its input, for every built-in rule.

Each rule gets adversarial inputs made of its own trigger fragments (repeated triggers, long
identifier runs, unclosed quotes, `://` without `@`, BEGIN without END, `eyJ` repeated...).
What is checked is the GROWTH: the exponent k of time ~ size^k, fitted (least squares on the
logarithms) over four sizes from n to 8n, each timed as the best of several runs taken in
turns with the collector off.  Linear work gives k near 1 (less when fixed costs dominate); a
quadratic rule gives 2, a cubic one 3.  No wall-clock limit is asserted.  (A ratio of two
sizes was used first: one noisy sample on a loaded machine could push it over its limit,
once in a full run; a fit over four sizes is not moved by one sample.)

The real-engine proof that such a log no longer stalls a diagnosis is
tests/engine/test_redaction_words.py.
"""

from __future__ import annotations

import gc
import math
import re
import time
from collections.abc import Callable

import pytest

from diagnose.redact import rules as rr
from diagnose.redact.redactor import Redactor

N = 5_000  # characters of the smallest input; the others have 2, 4 and 8 times as many
SCALES = (1, 2, 4, 8)
EXPONENT_LIMIT = 1.5  # linear is 1, quadratic 2
REPEAT = 5


def rep(fragment: str) -> Callable[[int], str]:
    """`fragment` repeated to about n characters."""
    return lambda n: fragment * max(1, n // len(fragment))


def pad(head: str, filler: str, tail: str = "") -> Callable[[int], str]:
    """`head`, then `filler` repeated to about n characters, then `tail`."""
    return lambda n: head + filler * max(1, (n - len(head) - len(tail)) // len(filler)) + tail


B64 = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"
#: rule name -> adversarial inputs (functions of the length)
CASES: dict[str, list[Callable[[int], str]]] = {
    "url-password": [rep("a://"), rep("a://b:"), rep("a.a.a."), pad("", "a.", "://"),
                     pad("x://", "u"), pad("x://u:", "p"), pad("x://u:", "p@"), rep("://"),
                     rep("a://b:c@")],
    "authorization-header": [rep("authorization"), pad("authorization:", " "),
                             rep("authorization-"), rep("authorization: bearer "),
                             rep("Proxy-Authorization=\"")],
    "bearer-token": [rep("bearer "), pad("bearer", " "), rep("bearer-"), pad("bearer ", "a")],
    "jwt": [rep("eyJ"), rep("eyJ-"), rep("eyJa.eyJa."), pad("eyJ", "a"), rep("eyJaaaaa."),
            rep(".eyJaaaaaa"), pad("eyJaaaaaa.eyJaaaaaa.", "a")],
    "aws-access-key-id": [rep("AKIA"), pad("AKIA", "A"), rep("A3TA")],
    "github-token": [rep("ghp_"), rep("github_pat_"), pad("ghp_", "a"), rep("ghp_a")],
    "gitlab-token": [rep("glpat-"), rep("GR1348941"), pad("glpat-", "a")],
    "slack-token": [rep("xoxb-"), rep("hooks.slack.com/services/"), rep("xapp-1-")],
    "stripe-key": [rep("sk_live_"), rep("_test_"), rep("whsec_")],
    "anthropic-key": [rep("sk-ant-"), rep("sk-ant-a"), pad("sk-ant-api03-", "a")],
    "openai-key": [rep("sk-"), rep("sk-proj-"), pad("sk-", "a"), rep("sk-aT3BlbkFJ")],
    "saas-token": [rep("AIza"), rep("SG."), rep("npm_"), rep("-us"), pad("", "a", "-us1"),
                   rep("pypi-AgEIcHlwaS5vcmc"), pad("", "0123456789abcdef", "-us"),
                   rep("dop_v1_"), rep("hf_"), rep("sq0csp-"), rep("AKCp"), rep("shpat_")],
    "azure-storage-key": [rep("AccountKey="), pad("AccountKey=", "A")],
    "telegram-bot-token": [rep("12345678:A"), pad("", "1", ":A" + "a" * 34), rep(":A"),
                           pad(":A", "a")],
    "discord-token": [rep("M" + "a" * 24 + "."), rep(".aaaaaa."),
                      pad("", "a", ".aaaaaa." + "a" * 30), rep(".aaaaaa." + "a" * 30)],
    "twilio-key": [rep("AC"), pad("AC", "a"), rep("SK0123456789abcdef"), rep("AC" + "0" * 32)],
    "curl-user": [rep("curl "), rep("curl -u "), rep("curl -u a"), pad("curl", " -u a:b"),
                  rep("curl -u :"), pad("curl -u a:", "b")],
    "key-value-pair": [rep("pass"), rep("authorization"), rep("password="), rep('password="'),
                       rep("password='"), pad('password="a', ' password="a'), pad("", "a", "pass"),
                       pad("pass", " ", "="), rep("key: "), rep('token="\\'), pad("password=", "a"),
                       rep("pass."), rep("_secret-"), rep("token: bearer "),
                       pad("password: '", "a "), rep("awssecret"),
                       pad("aws_secret_access_key=", "A"), pad("aws_key", " ", "=")],
}
#: What is not a rule of TEXT_RULES but runs on the same text.
EXTRA: dict[str, list[Callable[[int], str]]] = {
    "pem": [rep("-----BEGIN RSA PRIVATE KEY-----"), rep("-----END PRIVATE KEY-----"),
            pad("", "A", "-----END PRIVATE KEY-----"), rep("-----BEGIN " + "A " * 8),
            rep(B64 + "-----END PRIVATE KEY-----"), pad("-----BEGIN PRIVATE KEY-----", B64),
            rep("-----BEGIN PRIVATE KEY-----\\n" + B64 + "\\n")],
    "protected": [rep("2026-11-27T20:57:14.123456789Z "), pad("", "a", "g"), rep("sha256:"),
                  rep("[redacted-1]")],
}


def _time(run: Callable[[], object]) -> float:
    gc.collect()
    gc.disable()
    try:
        # CPU time of this thread: time spent waiting for a CPU while the machine is busy
        # elsewhere (CI runs dockerd beside the tests) is not the code's.
        t0 = time.thread_time()
        run()
        return time.thread_time() - t0
    finally:
        gc.enable()


def _exponent(runner: Callable[[int], Callable[[], object]], base: int = N) -> float:
    """k in time ~ size^k over `base` * SCALES, from the best of REPEAT runs of each size
    taken in turns (a burst of load from elsewhere then slows every size alike)."""
    runs = [runner(base * s) for s in SCALES]
    runs[0]()  # warm up: compile the patterns
    best = [float("inf")] * len(runs)
    for _ in range(REPEAT):
        for i, run in enumerate(runs):
            best[i] = min(best[i], _time(run))
    # Tiny times are all overhead (and noise): count at least a few microseconds.
    xs = [math.log(s) for s in SCALES]
    ys = [math.log(max(t, 2e-5)) for t in best]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
            / sum((x - mx) ** 2 for x in xs))


def _growth(gen: Callable[[int], str], make: Callable[[], Redactor] = Redactor) -> float:
    def runner(n: int) -> Callable[[], object]:
        text = gen(n)
        return lambda: make().text(text, "f")

    return _exponent(runner)


def test_the_fit_tells_quadratic_from_linear():
    """The measure itself: Python's re on `a*b` over a run of `a` (each start rescans the
    rest: quadratic) is caught, a plain scan is not."""
    quadratic = re.compile(r"a*b")
    assert _exponent(lambda n: (lambda s="a" * n: quadratic.search(s)), base=500) > EXPONENT_LIMIT
    assert _exponent(lambda n: (lambda s="a" * n: s.count("b"))) < EXPONENT_LIMIT


def test_every_rule_has_adversarial_cases():
    assert {r.name for r in rr.TEXT_RULES} == set(CASES)


@pytest.mark.parametrize("name,index", [(k, i) for k, gens in {**CASES, **EXTRA}.items()
                                        for i in range(len(gens))])
def test_rule_grows_linearly(name, index):
    gen = {**CASES, **EXTRA}[name][index]
    k = _growth(gen)
    assert k < EXPONENT_LIMIT, f"{name} case {index}: time grows as size^{k:.2f}"


def test_learned_values_grow_linearly():
    """Many learned values, and text made of them and of near misses."""
    def make() -> Redactor:
        r = Redactor()
        for i in range(300):
            r.assignment(f"TOKEN_{i}=Tok-{i:04d}-Secret", "f")
        return r

    for gen in (rep("Tok-0001-Secret "), rep("Tok-0001-Secretx "), rep("xTok-0001-Secret"),
                rep("Secret-"), rep("Tok-")):
        k = _growth(gen, make)
        assert k < EXPONENT_LIMIT, f"learned values: time grows as size^{k:.2f}"


def test_user_patterns_grow_linearly():
    """RE2 keeps even a catastrophic pattern linear."""
    for pattern, gen in ((r"(a+)+b", rep("a")), (r"(?:x|x)*y", rep("x")),
                         (r"secret=(\w+)", rep("secret="))):
        k = _growth(gen, lambda p=pattern: Redactor(extra_patterns=[p]))
        assert k < EXPONENT_LIMIT, f"{pattern}: time grows as size^{k:.2f}"


@pytest.mark.parametrize("line", [
    "-----BEGIN RSA PRIVATE KEY-----", "-----END PRIVATE KEY-----", B64, "eyJhbGciOiJIUz.",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3ZWIifQ.", "password=\"" + "a" * 50, "curl -u a:",
])
def test_log_files_grow_linearly(line):
    """Line-oriented redaction (PEM blocks over lines, a JWT cut at a line's end) on logs
    made of one such line repeated, and of one such line made long."""
    stamp = "2026-11-27T20:57:14.123456789Z "
    for make in (lambda n: "".join(f"{stamp}{line}\n" for _ in range(n // (len(line) + 32))),
                 lambda n: stamp + line + "a" * n + "\n"):
        def runner(n: int, mk: Callable[[int], str] = make) -> Callable[[], object]:
            data = mk(n).encode()
            return lambda: Redactor().file("containers/a/logs/stdout.log", data)

        k = _exponent(runner, base=N * 2)
        assert k < EXPONENT_LIMIT, f"{line!r}: time grows as size^{k:.2f} of the log"
