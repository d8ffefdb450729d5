"""What every method and backend runs on: array rules, scratch memory, threads, the cache folder.
"""
