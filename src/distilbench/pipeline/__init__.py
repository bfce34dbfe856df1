"""The whole pipeline as a DVC experiment: what a study started from the Prefect dashboard (or a schedule)
runs.
"""
