"""What a run writes: the result file's schema (:mod:`.schema`) and the HDF5 recorder
(:mod:`.recorder`), which writes to a temporary name and renames the file when it is complete.
"""
