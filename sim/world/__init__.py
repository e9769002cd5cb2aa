"""Everything drawn from the seed before the engine starts: the population of positions, the book profile, price paths."""
