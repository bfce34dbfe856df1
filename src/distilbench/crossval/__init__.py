"""The crossval stage: the plan of fold jobs, one fold's computation and its compressed variants, the
majority-class floor, each fold's MLflow runs, and the stage's results file.
"""
