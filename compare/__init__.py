"""The harness: compare two implementations of the comparison protocol."""
