"""The directory's listings: what families may see, a listing as plain data, and how it changes.

    queries    which listings families may see, by category and in batches; the vocabularies
    data       a listing as plain data, the differences between two versions, the three-way merge
    writing    the write path: listing data onto a listing's rows, venues resolved through the gazetteer
    workflow   every step of a change (start, save, submit, approve, publish, ...), one transaction each
    cards      result cards, rendered once per listing version and language
    labels     what families and staff read for each stored code

Import from the modules themselves: this package's ``__init__`` imports nothing,
so no module can reach another through it.
"""
