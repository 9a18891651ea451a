"""Ready-made stage models.

Examples
--------
>>> from touchpoint.stages import CUSTOMER_LIFECYCLE, PURCHASE_PHASES
>>> [s.name for s in CUSTOMER_LIFECYCLE]
['pre-awareness', 'awareness', 'consideration', 'purchase', 'usage', 'advocacy', 'loyalty']
>>> [s.name for s in PURCHASE_PHASES]
['pre-purchase', 'purchase', 'post-purchase']
"""

from __future__ import annotations

from touchpoint.core._journey import Stage

__all__ = ["CUSTOMER_LIFECYCLE", "LIFECYCLE_TO_PURCHASE_PHASE", "PURCHASE_PHASES"]

#: The seven-stage customer lifecycle used throughout the seed articles.
CUSTOMER_LIFECYCLE: tuple[Stage, ...] = (
    Stage("pre-awareness", 0, description="The customer has a need but does not know the brand."),
    Stage("awareness", 1, description="First contact with the brand: ads, search, word of mouth."),
    Stage("consideration", 2, description="Comparing options: site visits, reviews, questions."),
    Stage("purchase", 3, description="Checkout, in store or online."),
    Stage("usage", 4, description="Onboarding, product use and support."),
    Stage("advocacy", 5, description="Reviews, referrals and recommendations."),
    Stage("loyalty", 6, description="Repeat purchases and long-term relationship."),
)

#: The coarse three-phase model: before, during and after the purchase.
PURCHASE_PHASES: tuple[Stage, ...] = (
    Stage("pre-purchase", 0, description="Everything before the decision to buy."),
    Stage("purchase", 1, description="The transaction itself."),
    Stage("post-purchase", 2, description="Delivery, usage, support and loyalty."),
)

#: How the seven lifecycle stages fold into the three purchase phases.
LIFECYCLE_TO_PURCHASE_PHASE: dict[str, str] = {
    "pre-awareness": "pre-purchase",
    "awareness": "pre-purchase",
    "consideration": "pre-purchase",
    "purchase": "purchase",
    "usage": "post-purchase",
    "advocacy": "post-purchase",
    "loyalty": "post-purchase",
}
