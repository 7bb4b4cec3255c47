"""The deal-claim engine: pure rules, one writer per shard, group commit.

rules.py   what a claim may do, in memory, no I/O
journal.py how a batch becomes durable (one SQLite transaction, synchronous=FULL)
shard.py   the single writer: takes what is waiting, applies it, commits once, answers
"""
