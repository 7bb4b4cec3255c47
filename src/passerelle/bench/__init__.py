"""Benchmarks behind `passerelle bench ...`: real servers, separate load processes, JSON out."""
