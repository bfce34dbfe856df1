"""The select stage and serving: which row becomes champion, its refit on the whole dataset, the MLflow
registry, and predict.
"""
