"""Qt-free domain: timebase, project model, reversible edits and persistence."""
