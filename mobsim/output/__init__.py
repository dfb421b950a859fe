"""What a run writes: the result file's schema (:mod:`.schema`) and the HDF5 recorder
(:mod:`.recorder`; the file layout and the writer thread in :mod:`.hdf5_tables`), which writes to a
temporary name and renames the file when it is complete.
"""
