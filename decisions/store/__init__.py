"""Storage: tables, migrations, the event format, the repository and the document store.

Importing this package loads nothing; import the module you need (`decisions.store.database`, ...).
"""
