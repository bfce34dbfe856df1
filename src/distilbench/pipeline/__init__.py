"""The pipeline as a whole: its stages and their arguments (stages), and the study a user starts from the
Prefect dashboard or a schedule, run as a DVC experiment (experiments).
"""
