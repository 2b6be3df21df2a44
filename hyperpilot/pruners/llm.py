"""``LLMPruner``: a language model decides from a text digest of the curves.

The model is any callable ``model(prompt: str) -> str``; the prompt is
``hyperpilot.pruners.digest.digest`` of the run and its peers, and the reply's first word is
``STOP``, ``CONTINUE`` or ``PROMOTE``, then a reason. No model ships with HyperPilot (none can
be downloaded here): :class:`ScriptedModel` is a reference implementation that reads the
digest's machine-readable lines and answers as a cautious person would. To plug in a local or a
remote model, wrap its client in a function:

    def local_model(prompt: str) -> str:            # e.g. llama.cpp's server, or any chat API
        reply = client.chat.completions.create(model="...", temperature=0,
                                               messages=[{"role": "user", "content": prompt}])
        return reply.choices[0].message.content

    study = hp.Study(space, fidelity, method="hyperpilot", pruner=LLMPruner(local_model))

With worker processes the callable travels to them pickled, so make it a module-level function
or an object whose client is created on first use. A model that raises, or whose reply cannot
be read, never fails the study: the default rule's decision stands, the reason says why, and
``failures`` counts it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from hyperpilot.pruners.base import ACTIONS, CurveView, Decision, Pruner
from hyperpilot.pruners.digest import digest, fields

Model = Callable[[str], str]


def parse_reply(reply: str) -> tuple[str, str] | None:
    """``(action, reason)`` from ``"STOP: reason"`` (any case, ``:`` or ``-`` or a space),
    or None when the first word is not an action."""
    text = reply.strip()
    head = text.split(None, 1)[0].rstrip(":-.,").lower() if text else ""
    if head not in ACTIONS:
        return None
    rest = text[len(head):].lstrip(" :-.,").strip()
    return head, rest.splitlines()[0] if rest else ""


class LLMPruner(Pruner):
    """A model's verdict at the default rule's check points.

    Args:
        model: ``model(prompt) -> reply`` (see the module docstring).
        default: the rule whose check points the model is asked at, and whose decision stands
            when the model fails (None: ``CurveRule()``).
        ask: ``"stop"``: only when the default rule would stop (the model confirms or vetoes);
            ``"every"``: at each of the default rule's checks.
    """

    name = "llm"
    needs_peers = True

    def __init__(self, model: Model, default: Pruner | None = None,
                 ask: Literal["stop", "every"] = "stop") -> None:
        from hyperpilot.pruners.curve import CurveRule

        if ask not in ("stop", "every"):
            raise ValueError(f"ask must be 'stop' or 'every', got {ask!r}")
        self.model, self.ask = model, ask
        self.default = default if default is not None else CurveRule()
        self.needs_incumbent = self.default.needs_incumbent
        self.failures = 0
        self.calls = 0

    def reset(self, run: str) -> None:
        self.default.reset(run)

    def _decide(self, view: CurveView) -> Decision | None:
        d = self.default.decide(view)
        if d is None or (self.ask == "stop" and not d.stop):
            return d
        self.calls += 1
        try:
            reply = self.model(digest(view, d.prob, d.action))
        except Exception as e:  # noqa: BLE001 - a model's failure is counted, never fatal
            return self._fallback(d, f"the model failed ({type(e).__name__}: {e})")
        parsed = parse_reply(str(reply))
        if parsed is None:
            return self._fallback(d, f"the model's reply was not understood: {str(reply)[:80]!r}")
        action, reason = parsed
        return Decision(action, reason or "(no reason given)", self.name, view.budget,  # type: ignore[arg-type]
                        d.prob)

    def _fallback(self, d: Decision, why: str) -> Decision:
        self.failures += 1
        return Decision(d.action, f"{why}; {d.reason}", f"{d.by} (llm fallback)", d.budget, d.prob)


class ScriptedModel:
    """A reference "model": reads the digest's fields and answers like a cautious person.

    It stops a run only when the curve model gives it little chance (``prob_beats_incumbent <
    threshold``) *and* at least ``majority`` of the finished runs were better at this budget;
    otherwise it lets the run continue, saying which test failed.
    """

    def __init__(self, threshold: float = 0.05, majority: float = 0.5) -> None:
        self.threshold, self.majority = threshold, majority

    def __call__(self, prompt: str) -> str:
        f = fields(prompt)
        prob = _float(f.get("prob_beats_incumbent"))
        better, _, n = f.get("peers_better_here", "0/0").partition("/")
        share = int(better) / int(n) if n and int(n) else 0.0
        if prob is not None and prob < self.threshold and share >= self.majority:
            return (f"STOP: P(beats the incumbent) = {prob:.3g} and {better} of {n} finished runs "
                    f"were better at budget {f.get('budget')}")
        if prob is None or prob >= self.threshold:
            return f"CONTINUE: it may still beat the incumbent (P = {f.get('prob_beats_incumbent')})"
        return (f"CONTINUE: only {better} of {n} finished runs were better at budget "
                f"{f.get('budget')}; too early to give up")


def _float(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None
