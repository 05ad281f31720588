"""The workflows: tools built on the engine, which run models for a purpose.

``sim/`` holds the engine (the weekly model, its mechanisms, its inputs and its outputs); this
package holds what is built on it: the command line (:mod:`~sim.workflows.cli`), sweeps and
experiments, calibration and validation (today's figures and England's history), comparison,
attribution, analysis, reports, figures, the sector's exports (SSDA903) and the teaching app.
The engine never imports from here. See ``sim/README.md`` for where a new piece goes.
"""
