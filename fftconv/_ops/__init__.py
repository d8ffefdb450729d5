"""The operations built on the engine: forward convolutions, transposes, filter gradients,
separable convolutions, vector-Jacobian products, scipy.signal's functions, NaN treatment.
"""
