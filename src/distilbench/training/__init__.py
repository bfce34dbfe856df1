"""One fine-tuning loop, distillation as a small override of it, scores on held-out rows, and inference speed
measured as a deployment sees it.
"""
