"""MLflow bookkeeping that knows no fold: the experiment, parent runs, the store's checks, what the UI shows
first, and the MLflow app.
"""
