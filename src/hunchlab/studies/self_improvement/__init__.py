"""Self-improvement studies: STaR with correctness filtering, and reward over-optimisation under a learned judge."""
