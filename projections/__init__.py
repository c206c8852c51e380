"""Projectors: event → read-model change. (The process manager is in ``processes``.)"""
