"""``python -m annotator simulate``: replay the real pipeline with a simulated person.

Gold labels are read only by ``GoldOracle`` (to answer the simulated person) and by the
scoring at the end; the service, ranking, training and stopping signal never see them.
"""

from annotator.simulate.oracle import GoldOracle
from annotator.simulate.runner import SimulationConfig, load_labelled, run_simulation, simulate_many

__all__ = ["GoldOracle", "SimulationConfig", "load_labelled", "run_simulation", "simulate_many"]
