"""Read models: their rows, storage, and the queries analysts call."""
