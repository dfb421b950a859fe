"""Pure physics: scalar functions of scalars (car-following models, lane-change incentive, counter-
based random numbers), compilable for every target.
"""
