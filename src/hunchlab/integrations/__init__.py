"""Loggers for the training frameworks researchers already use: ``transformers`` (a Trainer
callback) and ``lightning`` (a Lightning logger). Each imports its framework only when used.
"""
