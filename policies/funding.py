"""Funding: the money authorities have for children's services.

Multiplies every authority's early-help budget and its placement budget line; a smaller
placement budget means larger overspends, which the crisis trap turns into early-help cuts the
following year. (Compare the Independent Review's £2.6bn over five years with the
government's £200m over two.)
"""

from policies import Lever

LEVERS = (Lever("funding", "Funding (x today)", "multiplies early-help and placement budgets"),)
