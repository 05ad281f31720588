"""Kinship support: allowances and special guardianship support for family and friends carers.

Multiplies the chance that a child entering care is placed with kin (given the strength of the
family's kin network). Kinship placements are local, cheap and break down least.
"""

from policies import Lever

LEVERS = (
    Lever(
        "kinship_support",
        "Kinship support (x today)",
        "multiplies the chance of a kinship placement at entry",
    ),
)
