"""kntc's adapters: all I/O (SQL store, CLI, daemon, notifications, bootstrap).

Imports ``engine``, never the reverse.
"""
