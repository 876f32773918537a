"""The imperative shell: gathers a snapshot, calls the core, applies its plan. The only code with I/O."""
