"""The shape of the synthetic community: how kinds, stances and contacts are mixed."""

from __future__ import annotations

from crm.vocab import STANCES

QUALIFIERS = ("North", "South", "East", "West", "Upper", "Lower", "Greater", "Old", "New",
              "Central")
STANCE_IX = {s: i for i, s in enumerate(STANCES)}
REC, NEU, WARY, HOST, UNK = (STANCE_IX[s] for s in ("receptive", "neutral", "wary", "hostile",
                                                   "unknown"))

# Stance mix per kind: receptive, neutral, wary, hostile, unknown.
STANCE_MIX = {
    "agency": (.60, .30, .05, .0, .05), "faith": (.30, .30, .10, .03, .27),
    "business": (.30, .35, .10, .05, .20), "advocacy": (.06, .18, .32, .26, .18),
    "youth": (.14, .24, .26, .10, .26), "informal": (.06, .20, .25, .15, .34),
    "tenants": (.12, .26, .28, .14, .20),
}
DEFAULT_MIX = (.20, .32, .14, .06, .28)
KIND_WEIGHTS = {"geographic": .16, "demographic": .08, "cultural": .09, "faith": .12,
                "business": .12, "tenants": .08, "youth": .09, "advocacy": .07, "agency": .06,
                "informal": .09, "other": .04}
# Relative pull on members (a few big congregations and block clubs, small agencies).
KIND_SIZE = {"geographic": 1.4, "demographic": 1.0, "cultural": 1.2, "faith": 1.6,
             "business": 0.6, "tenants": 1.0, "youth": 1.0, "advocacy": 0.8, "agency": 0.4,
             "informal": 0.7, "other": 0.6}
# Contacts per group by stance: officers favour the friendly groups (the known failure mode).
CONTACT_PULL = {REC: 3.0, NEU: 1.3, WARY: 0.55, HOST: 0.3, UNK: 0.8}
# initiated_by mix (proactive, requested, reactive) by stance: hostile contact is mostly reactive.
INITIATED_MIX = {REC: (.68, .24, .08), NEU: (.60, .22, .18), UNK: (.50, .20, .30),
                 WARY: (.35, .15, .50), HOST: (.18, .10, .72)}
# Target stage index per stance: options and weights.
STAGE_TARGET = {REC: ((2, 3, 4), (.25, .45, .30)), NEU: ((1, 2, 3), (.35, .45, .20)),
                UNK: ((1, 2), (.6, .4)), WARY: ((1, 2, 3), (.5, .4, .1)),
                HOST: ((1, 2), (.75, .25))}
