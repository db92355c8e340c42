"""The real-risk-of-significant-harm assessment of a breach (PIPEDA s. 10.1): the sensitivity of the information
and the probability that it is misused, each low, medium or high. Decided here and nowhere else."""

from typing import Literal

Level = Literal["low", "medium", "high"]

# A risk is real when neither factor is low: sensitive information that is probably misused. A low sensitivity
# (a name on a class list) or a low probability (an encrypted laptop recovered unopened) is recorded, not reported.
RISKY_LEVELS = frozenset({"medium", "high"})


def real_risk_of_significant_harm(*, sensitivity: Level | str, probability: Level | str) -> bool:
    return sensitivity in RISKY_LEVELS and probability in RISKY_LEVELS
