"""The road step's phases: per-item range functions (vehicles, lanes, links) named for their behaviour.
"""
