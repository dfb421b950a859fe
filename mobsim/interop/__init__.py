"""Other tools' files: SUMO networks, demand and configurations in (:mod:`.sumo_net`,
:mod:`.sumo_demand`, :mod:`.sumocfg`), native scenario folders from them (:mod:`.convert`), and
SUMO files out (:mod:`.sumo_export`).
"""
