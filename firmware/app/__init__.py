"""The composition root: options, wiring, run, the command line; the only code that
imports board.
"""
