"""The support directory: typed records, the data/ file format and pure query functions."""
