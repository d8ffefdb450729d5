"""Pure arithmetic on shapes: geometry, adjoint geometry, padding rules and signal layouts.

Nothing here touches an array's values or imports the rest of fftconv.
"""
