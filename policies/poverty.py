"""Poverty and the cost of living.

Multiplies the share of families in poverty in every neighbourhood band. Each family keeps a
fixed draw against its band's rate, so raising the lever makes the families nearest the line
poor first, and lowering it lifts them out; poverty raises a family's long-run need
(``need.poverty_effect``).
"""

from policies import Lever

LEVERS = (
    Lever(
        "poverty",
        "Poverty (x today)",
        "multiplies the share of families in poverty, raising long-run need",
    ),
)
