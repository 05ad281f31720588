"""Early-help capacity: how many families the authority can support before crisis.

Acts through each :class:`~agents.local_authority.LocalAuthority`'s early-help budget, which
buys places; families spotted by health visitors or signposted from the front door wait for a
place, and a week of early help lowers need (``early_help.effect``) and may resolve a toxic-trio
factor for good. Early help roughly halved in real terms between 2010-11 and 2020-21 (NCB / Pro
Bono Economics: £3.8bn to £1.9bn). The crisis trap (``budget.crisis_trap_strength``) cuts it
after a placement overspend.
"""

from policies import Lever

LEVERS = (
    Lever(
        "early_help_capacity",
        "Early-help capacity (x today)",
        "multiplies every authority's early-help budget, and so its places",
    ),
)
