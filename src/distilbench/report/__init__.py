"""The report stage: tables as the studies lay them out, paired statistics, the Pareto front, figures,
published references, and metrics for DVC.
"""
