"""The data layer: dataset sources, validation, folds and the prepared-dataset format."""
