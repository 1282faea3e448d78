"""Scalable oversight studies: weak-to-strong generalisation; debate with a sparse-pixel judge."""
