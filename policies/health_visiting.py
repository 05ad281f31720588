"""Health-visitor numbers: the universal service that sees every baby.

Acts through :class:`~agents.health_visitor.HealthVisitorTeam` FTE: fewer FTE mean higher
caseloads, fewer mandated contacts delivered and less rising need spotted early. England had
about 10,300 FTE in 2015 and 6,700 in 2023 (Institute of Health Visiting); 1.54 x today is
roughly the 2015 level.
"""

from policies import Lever

LEVERS = (
    Lever(
        "health_visitor_fte",
        "Health-visitor FTE (x today)",
        "multiplies every team's FTE, so caseloads, coverage and spotting change",
    ),
)
