"""Test-time compute studies: self-consistency and PRM vs ORM; compute-optimal search by difficulty."""
