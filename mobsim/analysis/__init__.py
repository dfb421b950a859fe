"""Reading results: the result file reader (:mod:`.results`), KPIs (:mod:`.kpi`) and plots
(:mod:`.plot`).
"""
