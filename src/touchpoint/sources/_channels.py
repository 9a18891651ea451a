"""Default channel grouping as data: GA4's rules, read and overridable by users.

A :class:`ChannelRule` names a channel and its conditions on the traffic
``source``, ``medium`` and ``campaign`` (lower-cased before matching, as GA4
matches without regard to case): every ``all_of`` condition must hold and, when
``any_of`` is given, at least one of those. Rules are tried in order; the first
that matches names the channel, none: ``"Unassigned"``.

:data:`CHANNEL_RULES` follows GA4's default channel group definitions
(support.google.com/analytics/answer/9756891), in their order. GA4 matches
sources against internal lists of search, social, shopping and video sites; the
lists here hold the most common of them and are part of the readable table, so
a site missing from them is one rule away.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint.table import Table

__all__ = ["CHANNEL_RULES", "FIELDS", "ChannelRule", "channel_rules", "classify"]

#: The traffic fields a condition may test.
FIELDS = ("source", "medium", "campaign")

SEARCH = (
    r"(.*\.)?(google|bing|yahoo|baidu|yandex|duckduckgo|ecosia|naver|seznam|qwant|"
    r"startpage|ask|aol|search\.brave|so|sogou|daum)(\.[a-z.]+)?"
)
SOCIAL = (
    r"(.*\.)?(facebook|fb|instagram|ig|linkedin|lnkd\.in|twitter|t\.co|x|pinterest|reddit|"
    r"tiktok|snapchat|quora|vk|weibo|tumblr|threads|mastodon|whatsapp|telegram|"
    r"messenger|discord|m\.facebook|l\.facebook|lm\.facebook)(\.[a-z.]+)?"
)
SHOPPING = (
    r"(.*\.)?(google shopping|shopping\.google|shopify|amazon|ebay|etsy|walmart|"
    r"alibaba|aliexpress|mercadolibre|rakuten|zalando|igshopping)(\.[a-z.]+)?"
)
VIDEO = r"(.*\.)?(youtube|vimeo|dailymotion|twitch|wistia|netflix|youku|ted)(\.[a-z.]+)?"
PAID = r".*cp.*|ppc|retargeting|paid.*"
SHOP_CAMPAIGN = r".*(([^a-df-z]|^)shop|shopping).*"
EMAIL = r"email|e-mail|e_mail|e mail"


@attrs.frozen
class ChannelRule:
    """One channel of a channel grouping: conditions on source, medium and campaign.

    Parameters
    ----------
    channel : str
        The channel the rule names (the touchpoint of ``touchpoint="channel"``).
    all_of : tuple of (field, regex)
        Conditions that must all hold; ``field`` is ``"source"``, ``"medium"``
        or ``"campaign"``, ``regex`` must match the whole lower-cased value.
    any_of : tuple of (field, regex)
        Conditions of which at least one must hold (ignored when empty).

    Examples
    --------
    >>> rule = ChannelRule("Newsletter", all_of=(("medium", "newsletter"),))
    >>> rule.matches("mailchimp", "Newsletter", "")
    True
    """

    channel: str
    all_of: tuple[tuple[str, str], ...] = ()
    any_of: tuple[tuple[str, str], ...] = ()
    _compiled: tuple[Any, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.channel, str) or not self.channel:
            ck.fail("channel", "a non-empty string", self.channel)
        compiled = []
        for group_name in ("all_of", "any_of"):
            group = getattr(self, group_name)
            out = []
            for cond in group:
                if (
                    not isinstance(cond, tuple)
                    or len(cond) != 2
                    or cond[0] not in FIELDS
                    or not isinstance(cond[1], str)
                ):
                    msg = f"a tuple of (field, regex) pairs with field in {FIELDS}"
                    ck.fail(f"{self.channel!r} rule {group_name}", msg, cond)
                try:
                    out.append((FIELDS.index(cond[0]), re.compile(cond[1], re.IGNORECASE)))
                except re.error as exc:
                    ck.fail(f"{self.channel!r} rule {group_name}", f"a valid regex ({exc})", cond)
            compiled.append(tuple(out))
        object.__setattr__(self, "_compiled", tuple(compiled))

    def matches(self, source: str, medium: str, campaign: str) -> bool:
        """Does the rule hold for these (raw) values?"""
        values = (source.lower(), medium.lower(), campaign.lower())
        all_of, any_of = self._compiled
        if not all(rx.fullmatch(values[f]) for f, rx in all_of):
            return False
        return not any_of or any(rx.fullmatch(values[f]) for f, rx in any_of)

    def describe(self) -> str:
        """The rule in words."""
        parts = [f"{f} ~ {rx}" for f, rx in self.all_of]
        if self.any_of:
            parts.append("(" + " or ".join(f"{f} ~ {rx}" for f, rx in self.any_of) + ")")
        return " and ".join(parts) or "always"


class ChannelRules(tuple[ChannelRule, ...]):
    """A channel grouping: rules tried in order (a tuple with :meth:`to_frame`)."""

    __slots__ = ()

    @property
    def table(self) -> Table:
        """One row per rule: order, channel, condition."""
        return Table(
            {
                "order": list(range(1, len(self) + 1)),
                "channel": [r.channel for r in self],
                "condition": [r.describe() for r in self],
            }
        )

    def to_frame(self, backend: Any = "pandas") -> Any:
        """The rules as a DataFrame (see :attr:`table`)."""
        return self.table.to_frame(backend)


#: GA4's default channel group definitions, in their order (first match wins).
CHANNEL_RULES = ChannelRules(
    (
        ChannelRule(
            "Direct", all_of=(("source", r"\(direct\)"), ("medium", r"\(not set\)|\(none\)"))
        ),
        ChannelRule("Cross-network", all_of=(("campaign", r".*cross-network.*"),)),
        ChannelRule(
            "Paid Shopping",
            all_of=(("medium", PAID),),
            any_of=(("source", SHOPPING), ("campaign", SHOP_CAMPAIGN)),
        ),
        ChannelRule("Paid Search", all_of=(("source", SEARCH), ("medium", PAID))),
        ChannelRule("Paid Social", all_of=(("source", SOCIAL), ("medium", PAID))),
        ChannelRule("Paid Video", all_of=(("source", VIDEO), ("medium", PAID))),
        ChannelRule("Display", all_of=(("medium", r"display|banner|expandable|interstitial|cpm"),)),
        ChannelRule("Paid Other", all_of=(("medium", PAID),)),
        ChannelRule("Organic Shopping", any_of=(("source", SHOPPING), ("campaign", SHOP_CAMPAIGN))),
        ChannelRule(
            "Organic Social",
            any_of=(
                ("source", SOCIAL),
                ("medium", r"social|social-network|social-media|sm|social network|social media"),
            ),
        ),
        ChannelRule("Organic Video", any_of=(("source", VIDEO), ("medium", r".*video.*"))),
        ChannelRule("Organic Search", any_of=(("source", SEARCH), ("medium", r"organic"))),
        ChannelRule("Referral", all_of=(("medium", r"referral|app|link"),)),
        ChannelRule("Email", any_of=(("source", EMAIL), ("medium", EMAIL))),
        ChannelRule("Affiliates", all_of=(("medium", r"affiliate"),)),
        ChannelRule("Audio", all_of=(("medium", r"audio"),)),
        ChannelRule("SMS", any_of=(("source", r"sms"), ("medium", r"sms"))),
        ChannelRule(
            "Mobile Push Notifications",
            any_of=(
                ("medium", r".*push"),
                ("medium", r".*(mobile|notification).*"),
                ("source", r"firebase"),
            ),
        ),
    )
)


def channel_rules(value: Any) -> ChannelRules:
    """Check a ``channel_rules=`` argument: None (the defaults) or a sequence of rules."""
    if value is None:
        return CHANNEL_RULES
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
        ck.fail("channel_rules", "None or a non-empty sequence of ChannelRule", value)
    bad = [r for r in value if not isinstance(r, ChannelRule)]
    if bad:
        ck.fail("channel_rules", "None or a non-empty sequence of ChannelRule", bad[0])
    return ChannelRules(value)


def classify(
    source: NDArray[Any],
    medium: NDArray[Any],
    campaign: NDArray[Any],
    rules: Sequence[ChannelRule] = CHANNEL_RULES,
) -> NDArray[Any]:
    """The channel of each (source, medium, campaign); missing values match as ``""``.

    Each distinct triple is classified once, so the cost grows with the
    number of distinct traffic sources, not of events.

    Examples
    --------
    >>> import numpy as np
    >>> classify(np.array(["google", "(direct)", "newsletter"], dtype=object),
    ...          np.array(["cpc", "(none)", "email"], dtype=object),
    ...          np.array([None, None, "spring"], dtype=object)).tolist()
    ['Paid Search', 'Direct', 'Email']
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = []
    for a in (source, medium, campaign):
        arr = a if isinstance(a, pa.Array | pa.ChunkedArray) else pa.array(a, from_pandas=True)
        cols.append(pc.fill_null(pc.cast(arr, pa.string()), ""))
    joined = pc.binary_join_element_wise(*cols, "\x1f")
    if isinstance(joined, pa.ChunkedArray):
        joined = joined.combine_chunks()
    enc = pc.dictionary_encode(joined)
    names = []
    for key in enc.dictionary.to_pylist():
        s, m, c = key.split("\x1f")
        names.append(next((r.channel for r in rules if r.matches(s, m, c)), "Unassigned"))
    # a few shared string objects: the event log codes them by identity
    shared = {n: n for n in names}
    table = np.array([shared[n] for n in names], dtype=object)
    out: NDArray[Any] = table[enc.indices.to_numpy(zero_copy_only=False)]
    return out
