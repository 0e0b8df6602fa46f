"""Widths several layers share: a column, the API schema and the CLI read the same number.

AWS's documented maxima: a Config resource type is at most 256 characters and a resource id at
most 768 (AWS Config API reference, ResourceIdentifier and PutResourceConfig); an ARN at most
2048 (IAM API reference). Derived widths are written as what they are built from.
"""

from __future__ import annotations

from typing import Final

RESOURCE_TYPE: Final = 256
RESOURCE_ID: Final = 768
ARN: Final = 2048
# "resource:<type>:<id>", the widest subject an audit rule names.
FINDING_SUBJECT: Final = len("resource:") + RESOURCE_TYPE + 1 + RESOURCE_ID
RULE: Final = 60
FINGERPRINT: Final = RULE + 1 + FINDING_SUBJECT  # "<rule>|<subject>"
# What a ledger record is about: "user:<email>" (320) and shorter keys. Longer subjects (text
# from a peer, such as a repository name GitHub sends) are cut on purpose, never refused: the
# record's payload holds them whole.
LEDGER_SUBJECT: Final = 500
