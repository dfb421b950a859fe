"""The drone step's phases: flight, pads, detection and resolution, geometry, and the drone constants.
"""
