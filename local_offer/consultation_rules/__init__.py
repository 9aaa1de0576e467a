"""The rules of consultations that change what is stored: writing, opening and closing one, answering it,
counting and publishing its results and written answers, keeping them only as long as the privacy notice says,
and the demo.

They live outside the ``consultations`` blueprint package because the pages
there only read and call these functions: the rules own each transaction and
its audit entry (tests/test_architecture.py keeps views from committing).
"""
