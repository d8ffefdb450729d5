"""The engine: cost model, planning, plans, guards, kept spectra and measurement.

It imports methods and backends, never an op.
"""
