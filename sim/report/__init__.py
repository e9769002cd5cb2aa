"""Pictures and maps of a result: the only package that imports matplotlib."""
